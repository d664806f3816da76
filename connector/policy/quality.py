"""The number's quality and the account's standing, as Meta reports them, and the marketing
pause they cause: the one place that says "marketing sends are paused" (`marketing_pause`).

Meta sends `phone_number_quality_update` (event FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE,
THROUGHPUT_UPGRADE…, with the messaging limit in force, which also sets the tier:
connector/policy/tier.py) and `account_update` (bans, restrictions, violations, …). Both are
recorded with their history, dated by when Meta says they happened.

When quality drops (a FLAGGED event, or a RED rating where one is reported) marketing pauses,
and stays paused, even when quality recovers, until a lead resumes it: a flagged number that
keeps sending offers is the one that gets downgraded. A later drop pauses again. A drop dated
before the last resume does not (a late or redelivered webhook about what the lead already saw),
and a webhook seen before (same ref) is not recorded twice.

Keys (owned here), all under the hash tag {quality}: a report is recorded, deduplicated and may
pause marketing in one script, which on Redis Cluster must touch one slot:
  quality:{quality}:current         hash: event, rating, current_limit, at (epoch ms), ref
  quality:{quality}:log             list, newest first: JSON {kind: quality|resume, event, rating,
                                    current_limit, at, recorded_at, applied, ref, by}; trimmed
  quality:{quality}:account         hash: the newest account_update: event, at, ref, details (JSON)
  quality:{quality}:account:log     list, newest first: JSON {event, at, recorded_at, applied, ref,
                                    details}
  quality:{quality}:pause           hash: since / reason (set while paused), newest_drop (ms),
                                    resumed_at (ms), resumed_by
  quality:{quality}:seen:<ref>      string, expires after SEEN_TTL: a webhook already recorded
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from connector.policy.tier import TIER_LIMITS, MessagingTier
from core.clock import SYSTEM_CLOCK, Clock

DROP_EVENTS = frozenset({"FLAGGED"})
DROP_RATINGS = frozenset({"RED"})
LOG_MAX = 500
# Meta retries an unacknowledged webhook for up to 7 days; a little longer covers its clock.
SEEN_TTL_SECONDS = 8 * 24 * 3600
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

CURRENT_KEY = "quality:{quality}:current"
LOG_KEY = "quality:{quality}:log"
ACCOUNT_KEY = "quality:{quality}:account"
ACCOUNT_LOG_KEY = "quality:{quality}:account:log"
PAUSE_KEY = "quality:{quality}:pause"
SEEN_PREFIX = "quality:{quality}:seen:"

# KEYS: current, log, pause, seen. ARGV: at ms, current fields JSON (string values: Lua would
# print large numbers in exponent form), log entry JSON (without
# applied), drop reason ('' = not a drop), log max, seen ttl.
# Returns 0 seen before, 1 applied, 2 history only (a newer state stands).
_RECORD = """
if not redis.call('SET', KEYS[4], '1', 'NX', 'EX', tonumber(ARGV[6])) then return 0 end
local at = tonumber(ARGV[1])
local applied = 2
if at >= tonumber(redis.call('HGET', KEYS[1], 'at') or '-1') then
  redis.call('DEL', KEYS[1])
  for k, v in pairs(cjson.decode(ARGV[2])) do redis.call('HSET', KEYS[1], k, v) end
  applied = 1
end
if ARGV[4] ~= '' and at > tonumber(redis.call('HGET', KEYS[3], 'resumed_at') or '-1') then
  local since = redis.call('HGET', KEYS[3], 'since')
  if not since or at < tonumber(since) then
    redis.call('HSET', KEYS[3], 'since', ARGV[1], 'reason', ARGV[4])
  end
  if at > tonumber(redis.call('HGET', KEYS[3], 'newest_drop') or '-1') then
    redis.call('HSET', KEYS[3], 'newest_drop', ARGV[1])
  end
end
local entry = cjson.decode(ARGV[3])
entry.applied = (applied == 1)
redis.call('LPUSH', KEYS[2], cjson.encode(entry))
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
return applied
"""

# KEYS: pause, log. ARGV: now ms, by, log entry JSON, log max. A resume covers every drop seen
# so far, even one dated a little ahead of our clock. Returns 1 resumed, 0 nothing was paused.
_RESUME = """
if not redis.call('HGET', KEYS[1], 'since') then return 0 end
local resumed = ARGV[1]
local newest = redis.call('HGET', KEYS[1], 'newest_drop')
if newest and tonumber(newest) > tonumber(resumed) then resumed = newest end
redis.call('HDEL', KEYS[1], 'since', 'reason')
redis.call('HSET', KEYS[1], 'resumed_at', resumed, 'resumed_by', ARGV[2])
redis.call('LPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
return 1
"""


@dataclass(frozen=True)
class Pause:
    reason: str          # e.g. "quality FLAGGED", "quality rating RED"
    since: dt.datetime   # when the first drop since the last resume happened


@dataclass(frozen=True)
class QualityRecord:
    """The number's quality state, or one entry of its history (kind "resume": a lead's resume)."""

    kind: str
    event: str
    at: dt.datetime | None
    rating: str = ""
    current_limit: str = ""
    recorded_at: dt.datetime | None = None
    applied: bool = True
    by: str = ""


@dataclass(frozen=True)
class AccountRecord:
    event: str
    at: dt.datetime | None
    details: Mapping[str, Any] = field(default_factory=dict)
    recorded_at: dt.datetime | None = None
    applied: bool = True


@dataclass(frozen=True)
class QualityState:
    quality: QualityRecord | None   # the newest quality update (None: none received)
    account: AccountRecord | None   # the newest account update
    pause: Pause | None
    resumed_at: dt.datetime | None = None
    resumed_by: str = ""


def _to_ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def _from_ms(value) -> dt.datetime | None:
    if value in (None, ""):
        return None
    return dt.datetime.fromtimestamp(int(float(value)) / 1000, tz=dt.timezone.utc)


def _quality(data: Mapping[str, Any]) -> QualityRecord:
    return QualityRecord(kind=data.get("kind") or "quality", event=data.get("event") or "",
                         at=_from_ms(data.get("at")), rating=data.get("rating") or "",
                         current_limit=data.get("current_limit") or "",
                         recorded_at=_from_ms(data.get("recorded_at")),
                         applied=data.get("applied") not in (False, "false"), by=data.get("by") or "")


def _account(data: Mapping[str, Any]) -> AccountRecord:
    details = data.get("details") or {}
    return AccountRecord(event=data.get("event") or "", at=_from_ms(data.get("at")),
                         details=json.loads(details) if isinstance(details, str) else details,
                         recorded_at=_from_ms(data.get("recorded_at")),
                         applied=data.get("applied") not in (False, "false"))


def drop_reason(event: str, rating: str = "") -> str:
    """Why this update pauses marketing ("" when it does not)."""
    if event in DROP_EVENTS:
        return f"quality {event}"
    if rating in DROP_RATINGS:
        return f"quality rating {rating}"
    return ""


class QualityRegister:
    def __init__(self, redis, clock: Clock = SYSTEM_CLOCK) -> None:
        self.redis = redis
        self.clock = clock
        self.tier = MessagingTier(redis, clock)
        self._record = redis.register_script(_RECORD)
        self._resume = redis.register_script(_RESUME)

    def _when(self, at: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
        if at is not None and at.tzinfo is None:
            raise ValueError("quality times must be timezone-aware")
        now = self.clock.now()
        return (now if at is None or at > now + FUTURE_TOLERANCE else at), now

    def record_quality(self, event: str, *, at: dt.datetime | None = None, current_limit: str = "",
                       rating: str = "", ref: str = "") -> bool:
        """A phone_number_quality_update that happened at `at` (default now). A known tier in
        `current_limit` becomes the tier in force (unless a newer setting stands). True when
        this is now the current quality state."""
        event, rating, current_limit = event.upper(), rating.upper(), current_limit.upper()
        at, now = self._when(at)
        ref = ref or f"{event}:{rating}:{current_limit}:{_to_ms(at)}"
        current = {"event": event, "rating": rating, "current_limit": current_limit, "at": str(_to_ms(at)), "ref": ref}
        entry = {"kind": "quality", **current, "at": _to_ms(at), "recorded_at": _to_ms(now)}
        result = int(self._record(
            keys=[CURRENT_KEY, LOG_KEY, PAUSE_KEY, SEEN_PREFIX + ref],
            args=[_to_ms(at), json.dumps(current), json.dumps(entry), drop_reason(event, rating),
                  LOG_MAX, SEEN_TTL_SECONDS]))
        if result and current_limit in TIER_LIMITS:
            self.tier.set_tier(current_limit, source="webhook", at=at)
        return result == 1

    def record_account(self, event: str, *, at: dt.datetime | None = None,
                       details: Mapping[str, Any] | None = None, ref: str = "") -> bool:
        """An account_update (ban, restriction, violation, …) that happened at `at`. True when
        it is now the newest account state."""
        event = event.upper()
        at, now = self._when(at)
        details = dict(details or {})
        ref = ref or f"account:{event}:{_to_ms(at)}:{json.dumps(details, sort_keys=True)}"
        current = {"event": event, "at": str(_to_ms(at)), "ref": ref, "details": json.dumps(details)}
        entry = {"event": event, "at": _to_ms(at), "ref": ref, "details": details, "recorded_at": _to_ms(now)}
        result = self._record(
            keys=[ACCOUNT_KEY, ACCOUNT_LOG_KEY, PAUSE_KEY, SEEN_PREFIX + ref],
            args=[_to_ms(at), json.dumps(current), json.dumps(entry), "", LOG_MAX, SEEN_TTL_SECONDS])
        return int(result) == 1

    def marketing_pause(self) -> Pause | None:
        data = self.redis.hgetall(PAUSE_KEY)
        if not data.get("since"):
            return None
        return Pause(data.get("reason") or "quality dropped", _from_ms(data["since"]))

    def resume_marketing(self, by: str) -> bool:
        """A lead lifts the pause. True when marketing was paused; drops dated up to now no
        longer count, a later one pauses again."""
        if not by:
            raise ValueError("say who resumes marketing")
        now = _to_ms(self.clock.now())
        entry = {"kind": "resume", "event": "MARKETING_RESUMED", "at": now, "recorded_at": now, "by": by,
                 "applied": True}
        return bool(self._resume(keys=[PAUSE_KEY, LOG_KEY], args=[now, by, json.dumps(entry), LOG_MAX]))

    def current(self) -> QualityState:
        quality, account = self.redis.hgetall(CURRENT_KEY), self.redis.hgetall(ACCOUNT_KEY)
        pause = self.redis.hgetall(PAUSE_KEY)
        return QualityState(quality=_quality(quality) if quality else None,
                            account=_account(account) if account else None,
                            pause=self.marketing_pause(), resumed_at=_from_ms(pause.get("resumed_at")),
                            resumed_by=pause.get("resumed_by") or "")

    def history(self, limit: int = LOG_MAX) -> list[QualityRecord]:
        """Quality updates and resumes, newest recorded first."""
        return [_quality(json.loads(raw)) for raw in self.redis.lrange(LOG_KEY, 0, limit - 1)]

    def account_history(self, limit: int = LOG_MAX) -> list[AccountRecord]:
        return [_account(json.loads(raw)) for raw in self.redis.lrange(ACCOUNT_LOG_KEY, 0, limit - 1)]
