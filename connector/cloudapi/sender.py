"""Sends Cloud API request bodies to Meta (or the local emulator) — window check, pacing,
retries, failure records — and returns the wamid.

Why httpx directly and not pywa_async's client: pywa's GraphAPI forces its session's base URL to
https://graph.facebook.com (the emulator at WHATSAPP_GRAPH_URL would need a patch), takes over
the httpx client's headers, builds bodies from its own types while ours come from Rasa responses,
and has no retry policy, pacing or duplicate-safety of its own — it raises the same httpx errors
for "never sent" and "sent, answer lost". Those last two are the reason this module exists, so a
thin POST on httpx is simpler than wrapping pywa.

Duplicate safety: Meta's send API has no idempotency key, so a request is retried only when Meta
cannot have accepted it: the connection failed before sending (ConnectError, ConnectTimeout,
PoolTimeout), or Meta answered with an error (HTTP 5xx/429 with a Graph error, 130429, 131056,
generic temporary codes). A read timeout, a connection dropped after sending, or a bare 504 from
a gateway may hide an accepted message: recorded as an unknown outcome for a person, not retried.

Numbers (defaults; RetryPolicy): at most 5 attempts, exponential backoff with full jitter, base
0.5 s (2 s when throttled), each delay capped at 20 s; Retry-After is honoured as a floor, and
after 131056 (pair rate) the floor is one pacing interval. Pacing per recipient and the
number's throughput (messages per second, taken again before every attempt, retries included,
since each one is a message to Meta): pacing.py. Read receipts are not messages: neither applies.

Once Meta has accepted a message (or may have), nothing here raises a Redis error: the caller
is a Rasa turn, and a turn that fails is run again, sending the message twice. Its record is
retried for `RetryPolicy.record_for` seconds (a Redis restart takes seconds), then given up
loudly; the status webhooks for the wamid still come.

The 24 h window is checked before pacing and again before every attempt: pacing waits (up to
90 s) and backoffs (up to 20 s each) are longer than the window's safety margin. A template is
asked of the business-initiated gate (connector/policy/outbound.py: register, consent, quality,
tier) once, before pacing: it refuses (NoConsentError, TemplateNotSendableError) or defers
(TierLimitError, MarketingPausedError, with `retry_at`), and every caller gets the same answer.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

import httpx
import redis
from prometheus_client import Counter, Histogram

from core.clock import SYSTEM_CLOCK, Clock
from core.metrics import SECONDS_BUCKETS
from connector.policy import outbound
from connector.policy.window import ServiceWindow
from connector.cloudapi import errors
from connector.cloudapi.config import GraphTarget
from connector.cloudapi.delivery import DeliveryLog
from connector.cloudapi.messages import is_free_form, read_receipt_body
from connector.cloudapi.pacing import Pacer, PacingPolicy, Throughput, ThroughputPolicy
from connector.cloudapi.transport import AiohttpTransport

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0, pool=5.0)

# Retrying these cannot duplicate a message: the request never left this process.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
# These happen after (part of) the request went out: Meta may have accepted it.
_MAYBE_SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError,
               httpx.CloseError, httpx.RemoteProtocolError)


# Outcomes: sent, deferred, and the failure kinds of DeliveryLog (refused, permanent,
# retries_exhausted, unknown_outcome). Read receipts are not messages: only their retries count.
SENDS = Counter("whatsapp_sends_total", "Messages sent to the Cloud API, by outcome", ["outcome"])
RETRIES = Counter("whatsapp_send_retries_total", "Cloud API requests retried, by the error class",
                  ["error"])
GRAPH_SECONDS = Histogram("whatsapp_graph_request_seconds", "One request to the Cloud API, answered or not",
                          buckets=SECONDS_BUCKETS)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    throttle_delay: float = 2.0
    max_delay: float = 20.0
    # Recording what Meta accepted: short waits, for about as long as a Redis restart takes.
    record_for: float = 15.0
    record_delay: float = 0.1
    record_max_delay: float = 2.0

    def delay(self, retry: int, error: errors.SendError, rng: Callable[[], float],
              floor: float = 0.0) -> float:
        """Seconds to wait before retry number `retry` (0 = first retry): full jitter."""
        base = self.throttle_delay if isinstance(error, errors.ThrottledError) else self.base_delay
        jittered = rng() * min(self.max_delay, base * 2 ** retry)
        return min(self.max_delay, max(jittered, floor, error.retry_after or 0.0))


class CloudSender:
    def __init__(
        self,
        target: GraphTarget,
        redis,
        clock: Clock = SYSTEM_CLOCK,
        http: httpx.AsyncClient | None = None,
        *,
        retry: RetryPolicy | None = None,
        pacing: PacingPolicy | None = None,
        throughput: ThroughputPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        window: ServiceWindow | None = None,
        gate: outbound.BusinessInitiated | None = None,
    ) -> None:
        self.target = target
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.window = window or ServiceWindow(redis, clock)
        self.gate = gate or outbound.BusinessInitiated.on(redis, clock, self.window)
        self.delivery = DeliveryLog(redis, clock)
        self.pacer = Pacer(redis, pacing or PacingPolicy.from_env(), clock)
        self.throughput = Throughput(redis, target.phone_number_id, throughput or ThroughputPolicy.from_env(), clock)
        self._http = http
        # Without a client given, sends go straight to aiohttp (connector/cloudapi/transport.py).
        self._wire: AiohttpTransport | None = None
        self._timeout = timeout
        self._sleep = sleep
        self._rng = rng

    async def aclose(self) -> None:
        if self._wire is not None:
            await self._wire.aclose()
            self._wire = None

    async def send(self, conversation_id: str, body: Mapping[str, Any], *,
                   agent: str | None = None) -> str:
        """Send one message body (with `to`) for a conversation; returns Meta's wamid.

        Raises WindowClosedError / TooManyQueuedError / NoConsentError /
        TemplateNotSendableError (refused, never sent), DeferredError (not now; not recorded
        here: the caller keeps it for `retry_at` or reports it), PermanentError
        subclasses, RetryableError (attempts exhausted) or UnknownOutcomeError — every one
        recorded in DeliveryLog.failures with the body. Never raises once Meta returned a wamid.
        """
        free_form = is_free_form(body)
        try:
            # Both before pacing, so a refused message takes no one's pacing slot.
            if free_form:
                self._check_window(conversation_id)
            elif body.get("type") == "template":
                self._check_business_initiated(conversation_id, body.get("template") or {})
            wait = self.pacer.reserve(str(body.get("to") or body.get("recipient") or conversation_id))
            if wait is None:
                raise errors.TooManyQueuedError(
                    f"more than {self.pacer.policy.max_wait:.0f} s of messages queued for this recipient",
                    code="pacing")
            if wait:
                await self._sleep(wait)
            guard = (lambda: self._check_window(conversation_id)) if free_form else None
            wamid = await self._post_with_retries(body, before_attempt=guard)
        except errors.DeferredError as exc:
            # Only the caller knows whether it keeps the message for later (the outreach
            # worker) or must report it as not sent (a Rasa turn, an agent): it records it.
            logger.info("send to %s deferred [%s] %s", conversation_id, exc.code, exc.title)
            SENDS.labels("deferred").inc()
            raise
        except errors.RefusedError as exc:
            # A closed window is the expected end of a conversation, not a fault.
            level = logging.WARNING if isinstance(exc, errors.WindowClosedError) else logging.ERROR
            await self._fail(conversation_id, body, exc.code, exc.title, kind="refused", agent=agent,
                             level=level)
            raise
        except errors.UnknownOutcomeError as exc:
            # May have been delivered: like a wamid, its record must not fail the turn.
            await self._fail(conversation_id, body, exc.code or "unknown_outcome", exc.title, exc.detail,
                             kind="unknown_outcome", agent=agent, durable=True)
            raise
        except errors.SendError as exc:
            await self._fail(conversation_id, body, exc.code if exc.code is not None else exc.http_status,
                       exc.title, exc.detail, agent=agent,
                       kind="retries_exhausted" if exc.retryable else "permanent")
            self.window.note_error(conversation_id, [exc.code])
            if isinstance(exc, errors.AuthError):
                logger.critical("WhatsApp rejected the access token: no message can be sent (%s)", exc)
            raise
        await self._record_durably(
            f"delivery record of {wamid} (sent to {conversation_id})",
            lambda: self.delivery.record_sent(wamid, conversation_id, body, agent=agent))
        SENDS.labels("sent").inc()
        return wamid

    async def mark_read(self, message: str | Mapping[str, Any], typing: bool = True) -> bool:
        """Read receipt (+ typing indicator) for a customer's wamid, or a ready read-receipt body.

        No window check or pacing (it is not a message). Repeating it is harmless, so even an
        unknown outcome is retried; failures are only logged — it is a courtesy.
        """
        body = read_receipt_body(message, typing) if isinstance(message, str) else message
        try:
            await self._post_with_retries(body, idempotent=True, paced=False)
            return True
        except errors.SendError as exc:
            logger.warning("read receipt for %s failed: %s", body.get("message_id"), exc)
            return False

    def _check_business_initiated(self, conversation_id: str, template: Mapping[str, Any]) -> None:
        verdict = self.gate.check(conversation_id, template)
        if verdict.outcome == outbound.SEND:
            return
        cls = _GATE_ERRORS[verdict.kind]
        if verdict.outcome == outbound.DEFER:
            raise cls(verdict.reason, code=verdict.kind, retry_at=verdict.retry_at)
        raise cls(verdict.reason, code=verdict.kind)

    def _check_window(self, conversation_id: str) -> None:
        window = self.window.status(conversation_id)
        if not window.open:
            raise errors.WindowClosedError(
                f"24 h window closed ({window.reason}); only templates can be sent", code="window_closed")

    async def _fail(self, conversation_id, body, code, title, detail="", *, kind="permanent", agent=None,
                    level=logging.ERROR, durable=False):
        logger.log(level, "WhatsApp send to %s failed [%s] %s %s", conversation_id, code, title, detail)
        SENDS.labels(kind).inc()

        def record() -> None:
            self.delivery.record_failure(conversation_id, body, code, title, detail, kind=kind, agent=agent)

        if durable:
            await self._record_durably(f"{kind} record of a send to {conversation_id} (body {dict(body)})", record)
        else:
            record()

    async def _record_durably(self, what: str, record: Callable[[], Any]) -> None:
        """Run a Redis write that must not fail the send: retried with short waits for
        `record_for` seconds, then given up with an ERROR naming `what`."""
        started, waited, retry = self.clock.now(), 0.0, 0
        budget = dt.timedelta(seconds=self.retry.record_for)
        while True:
            try:
                record()
                return
            except redis.RedisError as exc:
                # Both bounds: waits may not move the clock (tests), Redis timeouts do not sleep.
                if waited >= self.retry.record_for or self.clock.now() - started >= budget:
                    logger.error("Redis still failing after %.0f s of retries; lost the %s: %s",
                                 self.retry.record_for, what, exc)
                    return
                delay = min(self.retry.record_max_delay, self.retry.record_delay * 2 ** retry)
                logger.warning("Redis error while recording the %s (%s); retrying in %.1f s", what, exc, delay)
                await self._sleep(delay)
                waited, retry = waited + delay, retry + 1

    async def _post_with_retries(self, body: Mapping[str, Any], idempotent: bool = False,
                                 before_attempt: Callable[[], None] | None = None, paced: bool = True) -> str:
        """`before_attempt` runs before every attempt (after any wait, the number's throughput
        slot included) and may refuse by raising."""
        attempts = max(1, self.retry.attempts)
        for attempt in range(attempts):
            if paced:
                await self._throughput_slot()
            if before_attempt is not None:
                before_attempt()
            try:
                return await self._post(body)
            except errors.SendError as exc:
                retry = exc.retryable or (idempotent and isinstance(exc, errors.UnknownOutcomeError))
                if not retry or attempt == attempts - 1:
                    if retry:
                        exc.detail = (exc.detail + "; " if exc.detail else "") + f"gave up after {attempts} attempts"
                    raise
                RETRIES.labels(type(exc).__name__).inc()
                floor = self.pacer.policy.interval if exc.code == 131056 else 0.0
                delay = self.retry.delay(attempt, exc, self._rng, floor)
                logger.warning("WhatsApp send attempt %d/%d failed (%s); retrying in %.1f s",
                               attempt + 1, attempts, exc, delay)
                await self._sleep(delay)
        raise AssertionError("unreachable")

    async def _throughput_slot(self) -> None:
        wait = self.throughput.reserve()
        if wait is None:
            raise errors.TooManyQueuedError(
                f"more than {self.throughput.policy.max_wait:.0f} s of messages queued for this number "
                f"({self.throughput.policy.mps} per second)", code="throughput")
        if wait:
            await self._sleep(wait)

    async def _post(self, body: Mapping[str, Any]) -> str:
        """One attempt; the wamid ("" for a read receipt) or the classified error."""
        headers = {"Authorization": f"Bearer {self.target.access_token}"}
        began = time.monotonic()
        try:
            if self._http is not None:  # given: the tests' Meta, or a caller's client
                response = await self._http.post(self.target.messages_url, json=body, headers=headers)
            else:
                if self._wire is None:
                    self._wire = AiohttpTransport()
                response = await self._wire.post_json(self.target.messages_url, body, headers, self._timeout)
        except _NOT_SENT as exc:
            raise errors.NetworkError(f"could not reach the Graph API: {type(exc).__name__}",
                                      code="network", detail=str(exc)) from exc
        except _MAYBE_SENT as exc:
            raise errors.UnknownOutcomeError(
                f"no answer after the request was sent ({type(exc).__name__}); "
                "the message may have been delivered — check with the customer before resending",
                code="unknown_outcome", detail=str(exc)) from exc
        except httpx.HTTPError as exc:
            raise errors.PermanentError(f"request could not be made: {type(exc).__name__}",
                                        code="request", detail=str(exc)) from exc
        finally:
            GRAPH_SECONDS.observe(time.monotonic() - began)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.is_success:
            if body.get("status") == "read":
                return ""
            wamid = _wamid(payload)
            if not wamid:
                raise errors.UnknownOutcomeError(
                    f"HTTP {response.status_code} without a message id; the message may have been sent",
                    code="unknown_outcome", http_status=response.status_code)
            return wamid
        has_graph_error = isinstance(payload, Mapping) and isinstance(payload.get("error"), Mapping)
        if response.status_code == 504 and not has_graph_error:
            raise errors.UnknownOutcomeError(
                "gateway timeout (HTTP 504) from a proxy; the message may have been sent",
                code="unknown_outcome", http_status=504)
        raise errors.from_graph(response.status_code, payload, _retry_after(response))


_GATE_ERRORS: dict[str, type[errors.RefusedError]] = {
    outbound.TEMPLATE: errors.TemplateNotSendableError,
    outbound.NO_CONSENT: errors.NoConsentError,
    outbound.MARKETING_PAUSED: errors.MarketingPausedError,
    outbound.TIER: errors.TierLimitError,
}


def build_sender(target: GraphTarget, redis, clock: Clock = SYSTEM_CLOCK, **options: Any) -> CloudSender:
    """The process's sender, with settings from the environment (what WhatsAppInput calls)."""
    return CloudSender(target, redis, clock, **options)


def _wamid(payload: Any) -> str | None:
    if isinstance(payload, Mapping):
        messages = payload.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], Mapping):
            return messages[0].get("id")
    return None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None
