"""A lean Graph API stand-in for the benchmarks: answers sends after a set latency, sends the
status webhooks Meta would send, and records when and in what order every message arrived.

    python -m bench.graph_standin --port 5099 --latency-ms 250 --webhook-url http://…/webhook
    (WHATSAPP_APP_SECRET, WHATSAPP_PHONE_NUMBER_ID from the environment, as the connector reads them)

Not the emulator (emulator/ checks every rule of the Cloud API, keeps chats and serves a web
page: too slow to be the thing a throughput figure is measured against). This one does only
what a benchmark needs, in one asyncio process:

  POST /{version}/{phone-number-id}/messages
      a message  → after the latency, {"messaging_product", "contacts", "messages": [{"id"}]};
                   then, for each accepted message, signed status webhooks sent → delivered → read
      a receipt  → ({"status": "read", "message_id"}) after the latency, {"success": true}
      with --fault-rate, that fraction is refused instead (500, 429, or 400 with code 130429)
  GET  /_standin/arrivals?since=N  the requests recorded from the Nth on (see Arrival), in arrival order
  POST /_standin/settings  {"latency_ms": …, "fault_rate": …} changes them for the next requests
  POST /_standin/reset     forgets what was recorded
  GET  /_standin/health

Times are time.monotonic(), which on Linux is one clock for every process of the machine, so
the load generator can subtract its own post times from them.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

from emulator.dispatch import encode, sign
from emulator.ids import new_wamid
from emulator.payloads import status_payload
from emulator.settings import Settings

# Seconds after acceptance of each status webhook: a phone online and a customer who reads at once.
STATUS_DELAYS = (("sent", 0.05), ("delivered", 0.1), ("read", 0.3))
# Status webhooks in flight at once; more would only measure this process's own contention.
STATUS_CONCURRENCY = 64
# Meta's answers to a send refused for being too fast or for a fault on their side.
FAULTS = (
    (500, {"error": {"message": "An unknown error has occurred.", "type": "OAuthException",
                     "code": 1, "fbtrace_id": "standin"}}),
    (429, {"error": {"message": "(#4) Application request limit reached", "type": "OAuthException",
                     "code": 4, "fbtrace_id": "standin"}}),
    (400, {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429,
                     "error_data": {"messaging_product": "whatsapp",
                                    "details": "Cloud API message throughput has been reached."},
                     "fbtrace_id": "standin"}}),
)


@dataclass
class Arrival:
    """One request as the stand-in saw it. `kind`: "message" or "read"; `to`: the recipient of a
    message; `message_id`: the wamid read (receipts) or the one given out (messages); `content`:
    the message without its envelope (type and content), what a duplicate is judged by."""
    at: float
    kind: str
    to: str | None
    message_id: str | None
    content: str | None
    status: int


@dataclass
class StandIn:
    settings: Settings
    latency: float = 0.0
    fault_rate: float = 0.0
    status_webhooks: bool = True
    seed: int = 0
    arrivals: list[Arrival] = field(default_factory=list)
    webhook_failures: int = 0
    webhooks_sent: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._session: ClientSession | None = None
        self._statuses: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(STATUS_CONCURRENCY)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/{version}/{number}/messages", self.messages)
        app.router.add_get("/_standin/arrivals", self.list_arrivals)
        app.router.add_post("/_standin/settings", self.change)
        app.router.add_post("/_standin/reset", self.reset)
        app.router.add_get("/_standin/health", lambda _: web.json_response({"status": "ok"}))
        app.on_cleanup.append(self._close)
        return app

    async def messages(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        if request.match_info["number"] != self.settings.phone_number_id:
            return web.json_response({"error": {"message": "Unsupported post request", "code": 100}}, status=400)
        body = await request.json()
        receipt = body.get("status") == "read"
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.fault_rate and self._random.random() < self.fault_rate:
            status, answer = self._random.choice(FAULTS)
            self.arrivals.append(Arrival(at, "read" if receipt else "message", body.get("to"),
                                         body.get("message_id"), None, status))
            return web.json_response(answer, status=status)
        if receipt:
            self.arrivals.append(Arrival(at, "read", None, body.get("message_id"), None, 200))
            return web.json_response({"success": True})
        to = str(body.get("to"))
        wamid = new_wamid(to)
        content = {k: v for k, v in body.items() if k not in ("messaging_product", "recipient_type", "to")}
        self.arrivals.append(Arrival(at, "message", to, wamid, json.dumps(content, sort_keys=True), 200))
        if self.status_webhooks:
            task = asyncio.create_task(self._send_statuses(to, wamid))
            self._statuses.add(task)
            task.add_done_callback(self._statuses.discard)
        return web.json_response({"messaging_product": "whatsapp",
                                  "contacts": [{"input": to, "wa_id": to}],
                                  "messages": [{"id": wamid}]})

    async def _send_statuses(self, to: str, wamid: str) -> None:
        accepted = time.time()
        message = {"id": wamid, "wa_id": to, "user_id": None, "category": "service", "timestamp": accepted}
        waited = 0.0
        for status, delay in STATUS_DELAYS:
            await asyncio.sleep(delay - waited)
            waited = delay
            payload = encode(status_payload(self.settings, message, status, time.time(), None))
            async with self._slots:
                await self._post_webhook(payload)

    async def _post_webhook(self, payload: bytes) -> None:
        if self._session is None:
            self._session = ClientSession(connector=TCPConnector(limit=STATUS_CONCURRENCY),
                                          timeout=ClientTimeout(total=30))
        headers = {"Content-Type": "application/json",
                   "X-Hub-Signature-256": sign(payload, self.settings.app_secret)}
        self.webhooks_sent += 1
        try:
            async with self._session.post(self.settings.webhook_url, data=payload, headers=headers) as answer:
                await answer.read()
                if answer.status != 200:
                    self.webhook_failures += 1
        except Exception:  # a benchmark counts it; Meta would retry, the figure must show it
            self.webhook_failures += 1

    async def list_arrivals(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", 0))
        return web.json_response({"arrivals": [asdict(a) for a in self.arrivals[since:]],
                                  "status_webhooks": {"sent": self.webhooks_sent, "failed": self.webhook_failures,
                                                      "pending": len(self._statuses)}})

    async def change(self, request: web.Request) -> web.Response:
        given = await request.json()
        if "latency_ms" in given:
            self.latency = float(given["latency_ms"]) / 1000
        if "fault_rate" in given:
            self.fault_rate = float(given["fault_rate"])
        return web.json_response({"latency_ms": self.latency * 1000, "fault_rate": self.fault_rate})

    async def reset(self, request: web.Request) -> web.Response:
        self.arrivals.clear()
        self.webhooks_sent = self.webhook_failures = 0
        return web.json_response({"status": "ok"})

    async def _close(self, app: web.Application) -> None:
        for task in list(self._statuses):
            task.cancel()
        if self._session is not None:
            await self._session.close()


def arrivals_from_json(payload: dict[str, Any]) -> list[Arrival]:
    return [Arrival(**a) for a in payload["arrivals"]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webhook-url", required=True, help="where the status webhooks go")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="fraction of sends refused (5xx/429/130429)")
    parser.add_argument("--no-status-webhooks", action="store_true")
    args = parser.parse_args(argv)
    settings = replace(Settings.from_env(os.environ), webhook_url=args.webhook_url)
    standin = StandIn(settings, latency=args.latency_ms / 1000, fault_rate=args.fault_rate,
                      status_webhooks=not args.no_status_webhooks)
    web.run_app(standin.app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
