"""The outreach worker: claims due sends (connector/outreach/store.py) under a lease, sends them
through the CloudSender, a bounded number at a time, and records each outcome; then puts each sent
template into the conversation's Rasa history (history.py). `python -m connector.outreach.worker`
(a process of `make run`); several may run.

Outcomes, from the sender (connector/cloudapi/sender.py, with the business-initiated gate):
  wamid                      → sent (Meta's status webhooks then fill in wa:out:{wamid})
  NoConsentError, TemplateNotSendableError, other refusals → refused: it never goes
  DeferredError(retry_at)    → deferred, due again at retry_at (tier) or in PAUSE_RECHECK (a
                               pause only a lead lifts), until it can go; never dropped
  TooManyQueuedError         → deferred for PAUSE_RECHECK (this recipient's pacing queue is full)
  RetryableError             → scheduled again after RETRY_DELAYS (the sender already retried), then failed
  PermanentError             → failed with Meta's reason
  UnknownOutcomeError, or anything unexpected once the POST may have begun → unknown: it may have
                               reached the customer, so it is never sent again automatically
Each failure is also on wa:failures for a person (the sender records its own; the worker adds the
ones it alone knows: sends lost with a dead worker, unexpected errors).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import socket
import uuid

from core.clock import SYSTEM_CLOCK, Clock
from connector.cloudapi import errors
from connector.cloudapi.delivery import DeliveryLog
from connector.cloudapi.messages import envelope
from connector.webhook.identity import Identity
from connector.outreach.history import TrackerHistory
from connector.outreach.store import DEFERRED, FAILED, LOST_IN_FLIGHT, REFUSED, SCHEDULED, SENT, UNKNOWN, SendStore

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)
RENEW_EVERY = 20.0
PAUSE_RECHECK = dt.timedelta(seconds=60)
RETRY_DELAYS = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15))
DEFAULT_CONCURRENCY = 8


class OutreachWorker:
    def __init__(self, store: SendStore, sender, history: TrackerHistory, clock: Clock = SYSTEM_CLOCK, *,
                 concurrency: int = DEFAULT_CONCURRENCY, poll_seconds: float = 0.5, owner: str | None = None) -> None:
        self.store = store
        self.sender = sender
        self.history = history
        self.clock = clock
        self.concurrency = max(1, concurrency)
        self.poll_seconds = poll_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.identity = Identity(store.redis)
        self.delivery = DeliveryLog(store.redis, clock)
        self._inflight: dict[str, asyncio.Task] = {}

    def recover(self) -> list[str]:
        """Expired leases back on the schedule; those lost mid-send become unknown, reported."""
        lost = self.store.recover()
        for send in filter(None, self.store.many(lost)):
            logger.error("send %s to %s: %s", send.id, send.contact, LOST_IN_FLIGHT)
            self.delivery.record_failure(send.contact, send.body, "unknown_outcome", LOST_IN_FLIGHT,
                                         f"send {send.id}", kind="unknown_outcome")
        return lost

    def start_due(self) -> int:
        """Claim what is due, up to the free slots, and start sending it; how many started."""
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return 0
        ids = self.store.claim(self.owner, free, LEASE)
        for send_id in ids:
            task = asyncio.create_task(self._send(send_id))
            self._inflight[send_id] = task
            task.add_done_callback(lambda _t, i=send_id: self._inflight.pop(i, None))
        return len(ids)

    async def step(self) -> int:
        """One round: claim up to the free slots and wait for every send in flight; how many."""
        self.start_due()
        waiting = list(self._inflight.values())
        await asyncio.gather(*waiting)
        return len(waiting)

    async def drain(self) -> None:
        """Send everything due now and append its history (tests, and one-off runs)."""
        self.recover()
        while await self.step():
            pass
        await self.history.flush()

    async def run(self, stop: asyncio.Event) -> None:
        renewed = asyncio.get_running_loop().time()
        while not stop.is_set():
            try:
                self.recover()
                self.start_due()
                await self.history.flush()
                now = asyncio.get_running_loop().time()
                if self._inflight and now - renewed >= RENEW_EVERY:
                    self.store.renew(self.owner, list(self._inflight), LEASE)
                    renewed = now
            except Exception:  # Redis restarting: keep the process, try again next round
                logger.exception("outreach worker round failed; retrying")
            waiting = list(self._inflight.values())
            if waiting:
                await asyncio.wait(waiting, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            else:
                try:
                    await asyncio.wait_for(stop.wait(), self.poll_seconds)
                except asyncio.TimeoutError:
                    pass
        if self._inflight:  # let started sends finish: their outcome must be recorded
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    async def _send(self, send_id: str) -> None:
        send = self.store.get(send_id)
        if send is None or not self.store.start(send_id, self.owner):
            self.store.finish(send_id, self.owner)  # held or cancelled meanwhile: let it go as it is
            return
        finish = lambda state, reason="", **fields: self.store.finish(  # noqa: E731
            send_id, self.owner, state=state, reason=reason, **fields)
        now = self.clock.now()
        try:
            body = envelope(self.identity.recipient(send.contact).fields(), "template", send.body)
            wamid = await self.sender.send(send.contact, body)
        except errors.DeferredError as exc:
            finish(DEFERRED, str(exc), due=exc.retry_at or now + PAUSE_RECHECK)
        except errors.TooManyQueuedError as exc:
            finish(DEFERRED, str(exc), due=now + PAUSE_RECHECK)
        except errors.RefusedError as exc:
            finish(REFUSED, str(exc))
        except errors.UnknownOutcomeError as exc:
            finish(UNKNOWN, str(exc))
        except errors.RetryableError as exc:
            if send.retries < len(RETRY_DELAYS):
                delay = RETRY_DELAYS[send.retries]
                finish(SCHEDULED, f"retrying at {(now + delay):%H:%M:%S} UTC after: {exc}", due=now + delay,
                       retries=send.retries + 1)
            else:
                finish(FAILED, f"gave up after {send.retries + 1} tries: {exc}")
        except errors.PermanentError as exc:
            finish(FAILED, str(exc))
        except LookupError as exc:  # no WhatsApp id known for the contact: nothing was posted
            finish(FAILED, str(exc))
        except Exception as exc:  # the POST may have begun: never re-sent by itself
            logger.exception("send %s: unexpected error", send_id)
            reason = f"unexpected error while sending ({type(exc).__name__}: {exc}); it may have gone out"
            finish(UNKNOWN, reason)
            self.delivery.record_failure(send.contact, send.body, "unknown_outcome", reason,
                                         f"send {send_id}", kind="unknown_outcome")
        else:
            sent_at = self.store.now_ms()
            if not finish(SENT, "", wamid=wamid, sent_at=sent_at):
                # The lease ran out mid-send (a stalled process) and recovery said "unknown";
                # Meta's answer says better: it went.
                logger.warning("send %s went out after its lease had expired; recorded as sent", send_id)
                self.store.set_fields(send_id, state=SENT, reason="", wamid=wamid, sent_at=sent_at)
            self.history.enqueue(send_id)


def build(redis_client=None, clock: Clock = SYSTEM_CLOCK, **options) -> OutreachWorker:
    """The process's worker, from the environment, with the sender built as the channel builds it."""
    from core.rasa_api import RasaHttp
    from core.redis_conn import get_redis
    from connector.cloudapi.config import WhatsAppConfig
    from connector.cloudapi.sender import build_sender

    redis_client = redis_client or get_redis(socket_connect_timeout=3, socket_timeout=5)
    store = SendStore(redis_client, clock)
    rasa = RasaHttp(os.environ.get("RASA_URL", "http://127.0.0.1:5005"), os.environ.get("RASA_TOKEN", ""))
    sender = build_sender(WhatsAppConfig.load(), redis_client, clock)
    concurrency = int(os.environ.get("OUTREACH_CONCURRENCY", DEFAULT_CONCURRENCY))
    return OutreachWorker(store, sender, TrackerHistory(store, rasa, clock), clock,
                          concurrency=concurrency, **options)


async def _main() -> None:
    worker = build()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    logger.info("outreach worker %s started (up to %d sends at a time)", worker.owner, worker.concurrency)
    try:
        await worker.run(stop)
    finally:
        await worker.sender.aclose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_main())
