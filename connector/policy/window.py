"""WhatsApp's 24-hour customer-service window: the one place that decides whether free-form
messages may be sent to a conversation.

Meta opens the window with every customer message and keeps it open for 24 hours; outside it only
approved templates go through (free-form sends fail with 131047). We also honour Meta's word over
our clock: after a 131047 the conversation stays closed until the customer writes again, even if
our arithmetic says the window should still be open.

Key `wa:window:{conv}` (hash): `last` = epoch ms of the newest inbound message, `closed_at` /
`closed_reason` = a forced close that only a later inbound clears.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable

from core.clock import SYSTEM_CLOCK, Clock

WINDOW = dt.timedelta(hours=24)
# Meta's "re-engagement message" error: a free-form message was refused because the window is
# closed. The one code that closes a window, whether a send is refused with it or a status fails.
WINDOW_CLOSED_CODE = 131047
# Sends are paced and retried, so a message queued a few seconds before the deadline can reach
# Meta after it. Treating the last minute as closed turns a likely 131047 into an early refusal.
SAFETY_MARGIN = dt.timedelta(seconds=60)
# A customer's timestamp ahead of our clock is believed only this far (clock skew): a far-future
# one would otherwise hold the window open for as long as it claims.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# Kept long after the window ends so the console can still show "last customer message".
KEY_TTL_SECONDS = 30 * 24 * 3600

# Inbound messages can be processed out of order (parallel workers, Meta redeliveries), so the
# newest timestamp wins, and only an inbound newer than the forced close reopens the window.
_RECORD_INBOUND = """
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local at = tonumber(ARGV[1])
if at > last then redis.call('HSET', KEYS[1], 'last', ARGV[1]) end
local closed = tonumber(redis.call('HGET', KEYS[1], 'closed_at') or '0')
if closed > 0 and at > closed then redis.call('HDEL', KEYS[1], 'closed_at', 'closed_reason') end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# Closes are dated (a status webhook carries when Meta failed the message), so the newest wins:
# a late status for an older refusal must not move the close back before a newer one.
_CLOSE = """
local closed = tonumber(redis.call('HGET', KEYS[1], 'closed_at') or '0')
if tonumber(ARGV[1]) >= closed then
  redis.call('HSET', KEYS[1], 'closed_at', ARGV[1], 'closed_reason', ARGV[2])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


@dataclass(frozen=True)
class WindowStatus:
    open: bool
    closes_at: dt.datetime | None
    last_inbound_at: dt.datetime | None
    reason: str  # "open" | "no_inbound" | "expired" | the forced-close reason (e.g. "131047")


def closes_window(codes: Iterable[Any]) -> bool:
    """Do these Meta error codes (ints, or strings from JSON) say the window is closed?"""
    return str(WINDOW_CLOSED_CODE) in {str(code) for code in codes}


def _key(conversation_id: str) -> str:
    return f"wa:window:{conversation_id}"


def _to_ms(at: dt.datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("window times must be timezone-aware")
    return int(at.timestamp() * 1000)


def _from_ms(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.timezone.utc)


class ServiceWindow:
    def __init__(self, redis, clock: Clock = SYSTEM_CLOCK, margin: dt.timedelta = SAFETY_MARGIN) -> None:
        self.redis = redis
        self.clock = clock
        self.margin = margin
        self._record = redis.register_script(_RECORD_INBOUND)
        self._close = redis.register_script(_CLOSE)

    def record_inbound(self, conversation_id: str, at: dt.datetime | None = None) -> None:
        """A customer message (sent at `at`, default now) opens or extends the window."""
        now = self.clock.now()
        at = now if at is None or at > now + FUTURE_TOLERANCE else at
        at_ms = _to_ms(at)
        self._record(keys=[_key(conversation_id)], args=[at_ms, KEY_TTL_SECONDS])

    def close(self, conversation_id: str, reason: str = str(WINDOW_CLOSED_CODE),
              at: dt.datetime | None = None) -> None:
        """Closed (at `at`, default now) until the customer writes again."""
        self._close(keys=[_key(conversation_id)],
                    args=[_to_ms(at or self.clock.now()), reason, KEY_TTL_SECONDS])

    def note_error(self, conversation_id: str, codes: Iterable[Any], at: dt.datetime | None = None) -> bool:
        """Meta failed or refused a message to this conversation with `codes` (at `at`, default
        now); closes the window when they say it is closed. True when it closed it."""
        if not closes_window(codes):
            return False
        self.close(conversation_id, str(WINDOW_CLOSED_CODE), at)
        return True

    def status(self, conversation_id: str) -> WindowStatus:
        data = self.redis.hgetall(_key(conversation_id))
        last = _from_ms(data.get("last"))
        if last is None:
            return WindowStatus(False, None, None, "no_inbound")
        closes_at = last + WINDOW
        # A refusal dated before the newest customer message is stale (status webhooks come
        # late and are redelivered): that message reopened the window.
        if data.get("closed_at") and int(data["closed_at"]) >= int(data["last"]):
            return WindowStatus(False, closes_at, last, data.get("closed_reason") or "closed")
        if self.clock.now() < closes_at - self.margin:
            return WindowStatus(True, closes_at, last, "open")
        return WindowStatus(False, closes_at, last, "expired")
