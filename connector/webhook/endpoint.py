"""The HTTP side of Meta's webhook, written once for both processes that serve it: the ingress
(`python -m connector.ingress`, what `make run` points Meta at) and the Rasa channel's own route
(connector/channel/input.py, which tests and single-process deployments use).

Strict where Rasa's Facebook channel is lax: SHA-256 signatures compared in constant time, and a
rejected request is answered with an error status, never 200. POST answers 200 only once every
message in it is stored in Redis; the answer is produced later by the conversation workers, so
Meta never waits on NLU and never times out into a redelivery.

Nothing here imports Rasa: the ingress must start in a fraction of a second and stay small.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from typing import Any, NamedTuple, Optional

import redis
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from core.clock import SYSTEM_CLOCK, Clock
from core.redis_conn import get_redis
from connector.cloudapi.config import ConfigError, WhatsAppConfig
from connector.cloudapi.delivery import DeliveryLog
from connector.inbox.queue import Ingest
from connector.policy.consent import ConsentRegister
from connector.policy.quality import QualityRegister
from connector.policy.templates import TemplateRegister
from connector.policy.window import ServiceWindow
from connector.webhook import signature
from connector.webhook.identity import Identity
from connector.webhook.inbound import MESSAGES_FIELD, InvalidJSON, PayloadError, load, parse_webhook
from connector.webhook.intake import Intake
from connector.webhook.types import Ignored, WebhookBatch

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 3 * 1024 * 1024
# Bodies this size or under are handled on the event loop: handing each webhook to a thread cost
# the ingress more CPU than handling it (`make bench-ingest`: 259 acks/s through a thread, 459
# inline). Bigger ones (batches, up to MAX_BODY_BYTES) go to a thread, so that hashing and
# parsing megabytes does not hold up other customers' acks and /health.
INLINE_BODY_BYTES = 64 * 1024
# After a Redis error, webhooks are answered 503 at once for this long (Meta retries them): an
# unreachable Redis then blocks the event loop for one connection timeout per period, not one
# per webhook, and /health keeps answering.
REDIS_RETRY_SECONDS = 1.0


def redis_from_env() -> redis.Redis:
    if not os.environ.get("REDIS_URL"):
        raise ConfigError("REDIS_URL is not set; the WhatsApp webhook stores every inbound message in Redis")
    # Timeouts, so an unreachable Redis turns into a 503 quickly instead of a hung webhook.
    return get_redis(socket_connect_timeout=3, socket_timeout=5)


class Answer(NamedTuple):
    status: int
    reason: str
    queued: int = 0


class WebhookEndpoint:
    """Verification, signature, parsing and intake of Meta's webhooks for one phone number."""

    def __init__(self, config: WhatsAppConfig, redis_client: redis.Redis, clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = config
        self.redis = redis_client
        self.clock = clock
        self.identity = Identity(redis_client)
        self.ingest = Ingest(redis_client)
        self.window = ServiceWindow(redis_client, clock)
        self.consent = ConsentRegister(redis_client, clock)
        self.templates = TemplateRegister(redis_client, clock)
        # No window for the registers: Intake closes it on 131047, resolving the customer through identity.
        self.intake = Intake(self.ingest, self.identity, DeliveryLog(redis_client, clock), self.window,
                             self.consent, QualityRegister(redis_client, clock), self.templates)
        self._redis_down_until = 0.0  # time.monotonic(): Redis is not asked again before then

    def handle(self, body: bytes, signature_header: Optional[str]) -> Answer:
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
        if time.monotonic() < self._redis_down_until:
            return Answer(503, "temporarily unavailable")
        try:
            queued = self.intake.accept(batch)
        except redis.RedisError as exc:
            self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            logger.error("webhook not stored, Redis unavailable (%s); Meta will retry", exc)
            return Answer(503, "temporarily unavailable")
        return Answer(200, "ok", queued)

    def add_routes(self, bp: Blueprint) -> None:
        """GET and POST /webhook on `bp`, and the Content-Length check for its server. The workers
        need no word from here: queuing a message announces it to every process's pool
        (connector/inbox/queue.py, Ingest.enqueue)."""

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
            body = await read_body(request)
            if body is None:
                return response.text("payload too large", status=413)
            signed = request.headers.get(signature.HEADER)
            if len(body) <= INLINE_BODY_BYTES:
                answer = self.handle(body, signed)
            else:
                answer = await asyncio.to_thread(self.handle, body, signed)
            return response.text(answer.reason, status=answer.status)

        # Sanic reads Content-Length with int() before any route runs: "abc" would be a 500 and
        # "-5" a hung connection. This signal runs just before, for every request of the server.
        @bp.signal("http.lifecycle.request")
        async def content_length_is_a_byte_count(request: Request) -> None:
            declared = request.headers.get("content-length")
            if declared is not None and not (declared.isascii() and declared.isdigit()):
                raise InvalidUsage("invalid Content-Length")


async def read_body(request: Request) -> Optional[bytes]:
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
