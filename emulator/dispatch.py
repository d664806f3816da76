"""Delayed jobs and signed webhook delivery with Meta-like retries.

One small pool of worker threads runs jobs when they fall due. Jobs that share a key (one
customer) never run at the same time, so a customer's webhooks leave in the order they were
scheduled unless one of them has to be retried, which is also how Meta behaves.
"""
from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
from typing import Callable

import httpx

log = logging.getLogger("emulator.webhooks")

# A job returns None when done, or the number of seconds after which to run it again.
Job = Callable[[], "float | None"]

# Meta keeps retrying for days; here the cap keeps a slow-starting Rasa (model loading) from
# losing what someone typed on the chat page in the meantime, without retrying forever.
MAX_BACKOFF = 30.0


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict) -> bytes:
    # Meta sends compact JSON with non-ASCII escaped (\uXXXX); the signature covers these bytes.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()


class Scheduler:
    def __init__(self, workers: int = 4) -> None:
        self._heap: list[tuple[float, int, str | None, Job]] = []
        self._seq = itertools.count()
        self._busy: set[str] = set()
        self._cond = threading.Condition()
        self._stopped = False
        self._generation = 0
        self._threads = [threading.Thread(target=self._run, name=f"emulator-dispatch-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    def schedule(self, delay: float, job: Job, key: str | None = None) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + max(delay, 0.0), next(self._seq), key, job))
            self._cond.notify_all()

    def clear(self) -> None:
        """Forget pending jobs (reset); a job already running finishes but is not retried."""
        with self._cond:
            self._heap.clear()
            self._generation += 1
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=2)

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + len(self._busy)

    def _take(self) -> tuple[int, str | None, Job] | None:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                ready = [item for item in self._heap if item[2] is None or item[2] not in self._busy]
                if ready:
                    item = min(ready)
                    if item[0] <= now:
                        self._heap.remove(item)
                        heapq.heapify(self._heap)
                        if item[2] is not None:
                            self._busy.add(item[2])
                        return self._generation, item[2], item[3]
                    self._cond.wait(timeout=item[0] - now)
                else:
                    self._cond.wait(timeout=1.0)
            return None

    def _run(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            generation, key, job = taken
            try:
                again = job()
            except Exception:  # a bug in one job must not kill the worker
                log.exception("emulator job failed")
                again = None
            with self._cond:
                if key is not None:
                    self._busy.discard(key)
                if again is not None and generation == self._generation and not self._stopped:
                    heapq.heappush(self._heap, (time.monotonic() + again, next(self._seq), key, job))
                self._cond.notify_all()


class WebhookSender:
    """POSTs signed payloads to the connector; retries 5xx, 429 and network errors with backoff."""

    def __init__(self, scheduler: Scheduler, url: str, secret: str, *, attempts: int,
                 backoff: float, timeout: float, on_result: Callable[[dict], None]) -> None:
        self.scheduler, self.url, self.secret = scheduler, url, secret
        self.attempts, self.backoff = max(attempts, 1), backoff
        self.timeout = timeout
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()
        self.on_result = on_result

    @property
    def client(self) -> httpx.Client:
        # Built on first use: creating one costs a TLS context, wasted when nothing is sent.
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self.timeout)
            return self._client

    def send(self, payload: dict, key: str | None, *, delay: float = 0.0,
             on_delivered: Callable[[], None] | None = None) -> None:
        body = encode(payload)
        record = {"url": self.url, "payload": payload, "attempts": 0, "status": None,
                  "result": "pending", "error": None}
        self.on_result(record)

        def job() -> float | None:
            record["attempts"] += 1
            try:
                response = self.client.post(self.url, content=body, headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(body, self.secret),
                    "User-Agent": "facebookexternalua",
                })
                record["status"], record["error"] = response.status_code, None
                retry = response.status_code >= 500 or response.status_code == 429
                ok = 200 <= response.status_code < 300
            except httpx.HTTPError as exc:
                record["status"], record["error"] = None, f"{type(exc).__name__}: {exc}"
                retry, ok = True, False
            if ok:
                record["result"] = "delivered"
                if on_delivered:
                    on_delivered()
                return None
            if retry and record["attempts"] < self.attempts:
                record["result"] = "retrying"
                return min(self.backoff * (2 ** (record["attempts"] - 1)), MAX_BACKOFF)
            record["result"] = "failed"
            log.warning("webhook to %s gave up after %d attempt(s): %s", self.url,
                        record["attempts"], record["error"] or record["status"])
            return None

        self.scheduler.schedule(delay, job, key)

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
