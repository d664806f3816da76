"""The Rasa input channel for the WhatsApp Cloud API (`connector.channel.input.WhatsAppInput` in
credentials.yml). Shaped like Rasa's own channels (name, from_credentials, blueprint,
get_output_channel), but strict where Rasa's Facebook channel is lax: SHA-256 signatures
compared in constant time, and a rejected request is answered with an error status, never 200.

POST /webhooks/whatsapp/webhook answers 200 only once every message in it is stored in Redis;
the bot's answer is produced later by the workers (connector/inbox/pool.py running
connector/channel/turns.py), so Meta never waits on NLU and never times out into a redelivery.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from typing import Any, Awaitable, Callable, Dict, NamedTuple, Optional, Text

import redis
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from core.clock import SYSTEM_CLOCK
from bot.handoff import Handoff
from core.redis_conn import get_redis
from connector.policy.consent import ConsentRegister
from connector.policy.quality import QualityRegister
from connector.policy.templates import TemplateRegister
from connector.policy.window import ServiceWindow
from connector.webhook import signature
from connector.cloudapi.config import ConfigError, WhatsAppConfig
from connector.cloudapi import reply_ids
from connector.cloudapi.delivery import DeliveryLog
from connector.webhook.identity import Identity
from connector.webhook.inbound import MESSAGES_FIELD, InvalidJSON, PayloadError, load, parse_webhook
from connector.webhook.types import Ignored, WebhookBatch
from connector.inbox.queue import Ingest
from connector.webhook.intake import Intake
from connector.channel.output import WhatsAppOutput
from connector.cloudapi.sender import build_sender
from connector.channel.tracker import RasaTrackers
from connector.channel.turns import TurnHandler
from connector.inbox.pool import WorkerPool
from connector.webhook.metrics import count_webhooks, sanic_route
from connector.inbox.metrics import BacklogCollector
from bot.handoff.metrics import HandoffCollector

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 3 * 1024 * 1024
DEFAULT_WORKERS = 4


def _redis_from_env() -> redis.Redis:
    if not os.environ.get("REDIS_URL"):
        raise ConfigError("REDIS_URL is not set; the WhatsApp channel stores every inbound message in Redis")
    # Timeouts, so an unreachable Redis turns into a 503 quickly instead of a hung webhook.
    return get_redis(socket_connect_timeout=3, socket_timeout=5)


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        # Unlike Rasa's channels, empty credentials are fine: the environment is the source.
        overrides = dict(credentials or {})
        workers = int(overrides.pop("workers", DEFAULT_WORKERS) or DEFAULT_WORKERS)
        return cls(WhatsAppConfig.load(overrides), _redis_from_env(), workers=workers)

    def __init__(
        self,
        config: WhatsAppConfig,
        redis_client: redis.Redis,
        workers: int = DEFAULT_WORKERS,
        clock: Any = SYSTEM_CLOCK,
        poll_seconds: float = 1.0,
        http: Any = None,
    ) -> None:
        self.config = config
        self.redis = redis_client
        self.clock = clock
        self.identity = Identity(redis_client)
        self.ingest = Ingest(redis_client)
        self.window = ServiceWindow(redis_client, clock)
        self.handoff = Handoff(redis_client, clock)
        self.consent = ConsentRegister(redis_client, clock)
        # No window here: Intake closes it on 131047, resolving the customer through identity.
        self.templates = TemplateRegister(redis_client, clock)
        self.intake = Intake(self.ingest, self.identity, DeliveryLog(redis_client, clock), self.window,
                             self.consent, QualityRegister(redis_client, clock), self.templates)
        self.workers = workers
        self._http = http  # an httpx.AsyncClient for the sender; None = the sender makes its own
        self.poll_seconds = poll_seconds
        self.pool: WorkerPool | None = None
        self._output: OutputChannel | None = None

    # --- outbound ------------------------------------------------------------------------

    def get_output_channel(self) -> Optional[OutputChannel]:
        """The one WhatsAppOutput of this process: used by the workers and by Rasa's
        `POST /conversations/{id}/tracker/events?output_channel=whatsapp` (agent replies)."""
        if self._output is None:
            self._output = WhatsAppOutput(self._sender(), self.identity.recipient, handoff=self.handoff,
                                          id_key=reply_ids.key(self.config.app_secret))
        return self._output

    def _sender(self) -> Any:
        options = {"http": self._http} if self._http is not None else {}
        return build_sender(self.config, self.redis, self.clock, window=self.window, **options)

    # --- inbound -------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint(f"whatsapp_webhook_{id(self)}", __name__)
        count_webhooks(bp)
        bp.add_route(sanic_route([BacklogCollector(self.ingest, self.clock), HandoffCollector(self.handoff)]),
                     "/metrics", methods=["GET"])

        @bp.route("/", methods=["GET"])
        @bp.route("/health", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            running = self.pool.running if self.pool else 0
            return response.json({"status": "ok", "workers": running})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if request.args.get("hub.mode") == "subscribe" and signature.tokens_match(
                request.args.get("hub.verify_token"), self.config.verify_token
            ):
                return response.text(request.args.get("hub.challenge") or "", status=200)
            logger.warning("webhook verification refused (wrong mode or verify token)")
            return response.text("forbidden", status=403)

        # A stream route: the handler runs before the body is read, so it can refuse what is too
        # large instead of Sanic buffering up to REQUEST_MAX_SIZE (100 MB under Rasa) first.
        @bp.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request)

        # Sanic reads Content-Length with int() before any route runs: "abc" would be a 500 and
        # "-5" a hung connection. This signal runs just before, for every request of the server.
        @bp.signal("http.lifecycle.request")
        async def content_length_is_a_byte_count(request: Request) -> None:
            declared = request.headers.get("content-length")
            if declared is not None and not (declared.isascii() and declared.isdigit()):
                raise InvalidUsage("invalid Content-Length")

        @bp.listener("after_server_start")
        async def start_workers(app: Any, loop: Any) -> None:
            await self.start_workers(on_new_message, app)

        @bp.listener("before_server_stop")
        async def stop_workers(app: Any, loop: Any) -> None:
            if self.pool is not None:
                await self.pool.stop()
                self.pool = None
            if self._output is not None:
                await self._output.sender.aclose()

        return bp

    async def _receive(self, request: Request) -> HTTPResponse:
        body = await _read_body(request)
        if body is None:
            return response.text("payload too large", status=413)
        # Off the event loop: the HMAC, decoding and parsing of up to 3 MB would otherwise hold
        # up other customers' acks and /health.
        answer = await asyncio.to_thread(self.handle_webhook, body, request.headers.get(signature.HEADER))
        if answer.queued and self.pool is not None:
            self.pool.wake()
        return response.text(answer.reason, status=answer.status)

    def handle_webhook(self, body: bytes, signature_header: Optional[str]) -> Answer:
        """A whole webhook body → its HTTP answer (blocking: Redis). Signed input never gets a
        5xx unless Redis is down: a retry by Meta (for 7 days) brings the same bytes back."""
        verdict = signature.verify(body, signature_header, self.config.app_secret)
        if verdict is signature.Verdict.MISSING:
            logger.warning("webhook without %s rejected", signature.HEADER)
            return Answer(401, "missing signature")
        if verdict is signature.Verdict.INVALID:
            logger.warning("webhook with a wrong signature rejected (check WHATSAPP_APP_SECRET)")
            return Answer(403, "invalid signature")
        try:
            batch = parse_webhook(load(body))
        except PayloadError as exc:
            reason = f"invalid JSON: {exc}" if isinstance(exc, InvalidJSON) else f"invalid payload: {exc}"
            logger.warning("signed webhook refused: %s", reason)
            return Answer(400, reason)
        batch = _for_number(batch, self.config.phone_number_id)
        try:
            queued = self.intake.accept(batch)
        except redis.RedisError as exc:
            logger.error("webhook not stored, Redis unavailable (%s); Meta will retry", exc)
            return Answer(503, "temporarily unavailable")
        return Answer(200, "ok", queued)

    async def start_workers(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any) -> None:
        if self.pool is not None:
            return
        trackers = RasaTrackers(lambda: app.ctx.agent, self.handoff)
        handler = TurnHandler(on_new_message, trackers, self.get_output_channel(), self.handoff,
                              self.window, self.redis, self.consent)
        self.pool = WorkerPool(
            self.ingest, handler, size=self.workers, poll_seconds=self.poll_seconds,
            already_handled=trackers.handled,
            on_dead_letter=lambda conv, wamid, raw, reason: self.intake.delivery.record_failure(
                conv, None, None, "Customer message not answered", reason, kind="dead_letter", wamid=wamid),
        )
        await self.pool.start()


class Answer(NamedTuple):
    status: int
    reason: str
    queued: int = 0


async def _read_body(request: Request) -> Optional[bytes]:
    """The body, or None when it is over MAX_BODY_BYTES: refused from Content-Length before a
    byte is read (and before Sanic sends a 100 Continue), and while streaming when chunked."""
    # Sanic lifts its limit for stream routes; ours counts while reading and also caps what
    # Sanic drains after we answer, so a refused body is not read to its end either.
    request.stream.request_max_size = MAX_BODY_BYTES
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    try:
        return b"".join([chunk async for chunk in request.stream])
    except PayloadTooLarge:
        return None


def _for_number(batch: WebhookBatch, phone_number_id: str) -> WebhookBatch:
    """Only what concerns our phone number. One app subscription delivers the webhooks of every
    number of the business account; answering another number's customer from ours, or closing
    a window on its statuses, would be wrong."""
    def ours(event: Any) -> bool:
        return event.phone_number_id in (None, phone_number_id)

    foreign = [e for e in (*batch.messages, *batch.statuses, *batch.preferences) if not ours(e)]
    if not foreign:
        return batch
    return dataclasses.replace(
        batch,
        messages=tuple(m for m in batch.messages if ours(m)),
        statuses=tuple(s for s in batch.statuses if ours(s)),
        preferences=tuple(p for p in batch.preferences if ours(p)),
        ignored=batch.ignored + tuple(
            Ignored(MESSAGES_FIELD, f"{getattr(e, 'wamid', None) or e.wa_id} is for phone number id "
                                    f"{e.phone_number_id}, not ours")
            for e in foreign),
    )
