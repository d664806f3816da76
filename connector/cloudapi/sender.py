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

Numbers (defaults; RetryPolicy / PacingPolicy, env overrides in PacingPolicy.from_env):
- retries: at most 5 attempts, exponential backoff with full jitter, base 0.5 s (2 s when
  throttled), each delay capped at 20 s; Retry-After is honoured as a floor, and after 131056
  (pair rate) the floor is one pacing interval.
- pacing per recipient (GCRA in Redis, key wa:pace:{recipient}): bursts of up to 10 messages go
  out at once, sustained sending is spaced 6 s apart — Meta's pair rate is about one message per
  6 s, with bursts tolerated (up to ~45) but "borrowed" from later. A send that would wait more
  than 90 s is refused rather than held.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

import httpx

from core.clock import SYSTEM_CLOCK, Clock
from connector.policy.window import ServiceWindow
from connector.cloudapi import errors
from connector.cloudapi.delivery import DeliveryLog
from connector.cloudapi.messages import is_free_form, read_receipt_body

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0, pool=5.0)

# Retrying these cannot duplicate a message: the request never left this process.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
# These happen after (part of) the request went out: Meta may have accepted it.
_MAYBE_SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError,
               httpx.CloseError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    throttle_delay: float = 2.0
    max_delay: float = 20.0

    def delay(self, retry: int, error: errors.SendError, rng: Callable[[], float],
              floor: float = 0.0) -> float:
        """Seconds to wait before retry number `retry` (0 = first retry): full jitter."""
        base = self.throttle_delay if isinstance(error, errors.ThrottledError) else self.base_delay
        jittered = rng() * min(self.max_delay, base * 2 ** retry)
        return min(self.max_delay, max(jittered, floor, error.retry_after or 0.0))


@dataclass(frozen=True)
class PacingPolicy:
    interval: float = 6.0
    burst: int = 10
    max_wait: float = 90.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "PacingPolicy":
        env = os.environ if env is None else env
        return cls(
            interval=float(env.get("WHATSAPP_PACE_INTERVAL", cls.interval)),
            burst=int(env.get("WHATSAPP_PACE_BURST", cls.burst)),
            max_wait=float(env.get("WHATSAPP_PACE_MAX_WAIT", cls.max_wait)),
        )


# GCRA: `tat` is when the recipient's bucket is next empty. A send may go at tat - (burst-1)
# intervals; reserving moves tat one interval on. Times in ms from the caller's clock.
_RESERVE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = (tonumber(ARGV[3]) - 1) * interval
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local send_at = math.max(now, tat - tolerance)
local wait = send_at - now
if wait > tonumber(ARGV[4]) then return -1 end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now + 1000)
return wait
"""


class Pacer:
    """Per-recipient pacing shared by every process through Redis."""

    def __init__(self, redis, policy: PacingPolicy | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        self.policy = policy or PacingPolicy()
        self.clock = clock
        self._reserve = redis.register_script(_RESERVE)

    def reserve(self, recipient: str) -> float | None:
        """Seconds to wait before sending to `recipient`, or None when over `max_wait`."""
        now_ms = int(self.clock.now().timestamp() * 1000)
        wait_ms = self._reserve(
            keys=[f"wa:pace:{recipient}"],
            args=[now_ms, int(self.policy.interval * 1000), max(1, self.policy.burst),
                  int(self.policy.max_wait * 1000)],
        )
        return None if int(wait_ms) < 0 else int(wait_ms) / 1000


@dataclass(frozen=True)
class GraphTarget:
    """Where and as whom to send: the WhatsApp part of connector.cloudapi.config.WhatsAppConfig."""

    access_token: str
    phone_number_id: str
    api_version: str = "v23.0"
    graph_url: str = "https://graph.facebook.com"

    def __repr__(self) -> str:  # keep the token out of logs
        return f"GraphTarget({self.messages_url})"

    @property
    def messages_url(self) -> str:
        return f"{self.graph_url.rstrip('/')}/{self.api_version}/{self.phone_number_id}/messages"

    @classmethod
    def of(cls, config: Any) -> "GraphTarget":
        """From a WhatsAppConfig, any object with those attributes, or a mapping."""
        if isinstance(config, cls):
            return config
        get = config.get if isinstance(config, Mapping) else lambda k, d=None: getattr(config, k, d)
        fields = {k: get(k) for k in ("access_token", "phone_number_id", "api_version", "graph_url")}
        return cls(**{k: str(v) for k, v in fields.items() if v is not None})


class CloudSender:
    def __init__(
        self,
        config: Any,
        redis,
        clock: Clock = SYSTEM_CLOCK,
        http: httpx.AsyncClient | None = None,
        *,
        retry: RetryPolicy | None = None,
        pacing: PacingPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        window: ServiceWindow | None = None,
    ) -> None:
        self.target = GraphTarget.of(config)
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.window = window or ServiceWindow(redis, clock)
        self.delivery = DeliveryLog(redis, clock, window=self.window)
        self.pacer = Pacer(redis, pacing or PacingPolicy.from_env(), clock)
        self._http = http
        self._owns_http = http is None
        self._timeout = timeout
        self._sleep = sleep
        self._rng = rng

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def send(self, conversation_id: str, body: Mapping[str, Any], *,
                   agent: str | None = None) -> str:
        """Send one message body (with `to`) for a conversation; returns Meta's wamid.

        Raises WindowClosedError / TooManyQueuedError (never sent), PermanentError subclasses,
        RetryableError (attempts exhausted) or UnknownOutcomeError — every one already recorded
        in DeliveryLog.failures with the body.
        """
        if is_free_form(body):
            window = self.window.status(conversation_id)
            if not window.open:
                self._fail(conversation_id, body, "window_closed",
                           f"24 h window closed ({window.reason}); only templates can be sent",
                           kind="refused", agent=agent)
                raise errors.WindowClosedError(f"24 h window closed ({window.reason})", code="window_closed")
        wait = self.pacer.reserve(str(body.get("to") or body.get("recipient") or conversation_id))
        if wait is None:
            title = f"more than {self.pacer.policy.max_wait:.0f} s of messages queued for this recipient"
            self._fail(conversation_id, body, "pacing", title, kind="refused", agent=agent)
            raise errors.TooManyQueuedError(title, code="pacing")
        if wait:
            await self._sleep(wait)
        try:
            wamid = await self._post_with_retries(body)
        except errors.UnknownOutcomeError as exc:
            self._fail(conversation_id, body, exc.code or "unknown_outcome", exc.title, exc.detail,
                       kind="unknown_outcome", agent=agent)
            raise
        except errors.SendError as exc:
            self._fail(conversation_id, body, exc.code if exc.code is not None else exc.http_status,
                       exc.title, exc.detail, agent=agent,
                       kind="retries_exhausted" if exc.retryable else "permanent")
            if isinstance(exc, errors.ReEngagementError):
                self.window.close(conversation_id, "131047")
            if isinstance(exc, errors.AuthError):
                logger.critical("WhatsApp rejected the access token: no message can be sent (%s)", exc)
            raise
        self.delivery.record_sent(wamid, conversation_id, body, agent=agent)
        return wamid

    async def mark_read(self, message: str | Mapping[str, Any], typing: bool = True) -> bool:
        """Read receipt (+ typing indicator) for a customer's wamid, or a ready read-receipt body.

        No window check or pacing (it is not a message). Repeating it is harmless, so even an
        unknown outcome is retried; failures are only logged — it is a courtesy.
        """
        body = read_receipt_body(message, typing) if isinstance(message, str) else message
        try:
            await self._post_with_retries(body, idempotent=True)
            return True
        except errors.SendError as exc:
            logger.warning("read receipt for %s failed: %s", body.get("message_id"), exc)
            return False

    def _fail(self, conversation_id, body, code, title, detail="", *, kind="permanent", agent=None):
        logger.error("WhatsApp send to %s failed [%s] %s %s", conversation_id, code, title, detail)
        self.delivery.record_failure(conversation_id, body, code, title, detail, kind=kind, agent=agent)

    async def _post_with_retries(self, body: Mapping[str, Any], idempotent: bool = False) -> str:
        attempts = max(1, self.retry.attempts)
        for attempt in range(attempts):
            try:
                return await self._post(body)
            except errors.SendError as exc:
                retry = exc.retryable or (idempotent and isinstance(exc, errors.UnknownOutcomeError))
                if not retry or attempt == attempts - 1:
                    if retry:
                        exc.detail = (exc.detail + "; " if exc.detail else "") + f"gave up after {attempts} attempts"
                    raise
                floor = self.pacer.policy.interval if exc.code == 131056 else 0.0
                delay = self.retry.delay(attempt, exc, self._rng, floor)
                logger.warning("WhatsApp send attempt %d/%d failed (%s); retrying in %.1f s",
                               attempt + 1, attempts, exc, delay)
                await self._sleep(delay)
        raise AssertionError("unreachable")

    async def _post(self, body: Mapping[str, Any]) -> str:
        """One attempt; the wamid ("" for a read receipt) or the classified error."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout)
        headers = {"Authorization": f"Bearer {self.target.access_token}"}
        try:
            response = await self._http.post(self.target.messages_url, json=body, headers=headers)
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


def build_sender(config: Any, redis, clock: Clock = SYSTEM_CLOCK, **options: Any) -> CloudSender:
    """The process's sender, with settings from the environment (what WhatsAppInput calls)."""
    return CloudSender(config, redis, clock, **options)


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
