"""The messaging tier: how many unique contacts may get business-initiated messages (templates
sent outside a customer-service window) in a moving 24 hours. The one place that counts them
(`MessagingTier.reserve`); the business-initiated gate asks it before every such send.

Meta sets the limit per business portfolio and reports it by name (TIER_LIMITS): new portfolios
start at 250, a scaling path raises it to 2,000, then automatic scaling to 10,000, 100,000 and
unlimited. A contact counts once while any message to it lies in the last 24 hours, so sending
to someone already reached is always allowed and refreshes their place; a new contact beyond
the limit is refused with the time the oldest counted contact leaves the 24 hours (retry_at),
so the caller defers the send rather than dropping it.

The tier in force is the newest one recorded (a phone_number_quality_update webhook, the CLI,
the console), dated by when it happened so a late webhook never overrides a newer setting;
with none recorded it is WHATSAPP_MESSAGING_TIER, else DEFAULT_TIER.

Keys (owned here), all under the hash tag {tier}, so the script that sets the tier and logs it
touches one slot on Redis Cluster:
  tier:{tier}:contacts   sorted set: contact → epoch ms of its newest business-initiated send;
                         members older than 24 h are dropped on every reserve
  tier:{tier}:current    hash: name, source, at (epoch ms the change happened), recorded_at
  tier:{tier}:log        list, newest first: JSON {name, source, at, recorded_at, applied}; trimmed
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from typing import Mapping

from core.clock import SYSTEM_CLOCK, Clock

# Meta's names. TIER_50 (unverified numbers) and TIER_1K (the 1,000 step before October 2025)
# still appear in webhooks and the Graph API's enums, so they are understood too.
TIER_LIMITS: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1_000,
    "TIER_2K": 2_000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": None,
}
# A new business portfolio's limit: the safe assumption until Meta or an operator says more.
DEFAULT_TIER = "TIER_250"
TIER_ENV = "WHATSAPP_MESSAGING_TIER"
WINDOW = dt.timedelta(hours=24)
LOG_MAX = 200
# A change dated ahead of our clock is believed only this far (clock skew); beyond, it is "now".
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

CONTACTS_KEY = "tier:{tier}:contacts"
CURRENT_KEY = "tier:{tier}:current"
LOG_KEY = "tier:{tier}:log"

# KEYS: contacts. ARGV: now ms, window ms, limit (-1 = unlimited), contact.
# Returns {allowed 0/1, used, oldest score or -1}. The window is (now - 24 h, now]: a contact
# reached exactly 24 h ago has left it.
_RESERVE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local limit = tonumber(ARGV[3])
local used = redis.call('ZCARD', KEYS[1])
local known = redis.call('ZSCORE', KEYS[1], ARGV[4])
local allowed = 0
if known or limit < 0 or used < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  if not known then used = used + 1 end
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {allowed, used, oldest[2] or -1}
"""

# KEYS: current, log. ARGV: current JSON fields (name, source, at, recorded_at), log max.
# The newest `at` wins; an older change only joins the log; the same change again (a
# redelivered webhook) is not logged twice. Returns 1 applied, 0 history only, 2 a repeat.
_SET = """
local at = tonumber(ARGV[3])
local current = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1')
if at == current and redis.call('HGET', KEYS[1], 'name') == ARGV[1]
   and redis.call('HGET', KEYS[1], 'source') == ARGV[2] then return 2 end
local applied = 0
if at >= current then
  redis.call('HSET', KEYS[1], 'name', ARGV[1], 'source', ARGV[2], 'at', ARGV[3], 'recorded_at', ARGV[4])
  applied = 1
end
redis.call('LPUSH', KEYS[2], cjson.encode({name = ARGV[1], source = ARGV[2], at = at,
  recorded_at = tonumber(ARGV[4]), applied = (applied == 1)}))
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
return applied
"""


@dataclass(frozen=True)
class TierDecision:
    """The answer to "may one more contact get a business-initiated message now?"."""

    allowed: bool
    used: int                    # unique contacts counted in the last 24 h (this one included if allowed)
    limit: int | None            # None = unlimited
    retry_at: dt.datetime | None  # refused: when a slot frees (the oldest contact leaves the 24 h)


@dataclass(frozen=True)
class TierUsage:
    tier: str
    used: int
    limit: int | None
    next_free_at: dt.datetime | None  # when the oldest counted contact leaves the 24 h (None: nobody counted)
    source: str = ""                  # who set the tier: "webhook", "cli", "console", or "env"/"default"
    since: dt.datetime | None = None  # when that setting happened (None for env/default)


@dataclass(frozen=True)
class TierChange:
    name: str
    source: str
    at: dt.datetime
    recorded_at: dt.datetime
    applied: bool  # False: a newer setting already stood (kept in the log only)


def limit_of(name: str) -> int | None:
    """The tier's unique-contact limit (None = unlimited); ValueError for an unknown name."""
    if name not in TIER_LIMITS:
        raise ValueError(f"unknown messaging tier {name!r} (one of {', '.join(TIER_LIMITS)})")
    return TIER_LIMITS[name]


def _to_ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def _from_ms(value) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(float(value)) / 1000, tz=dt.timezone.utc)


class MessagingTier:
    def __init__(self, redis, clock: Clock = SYSTEM_CLOCK, env: Mapping[str, str] | None = None) -> None:
        self.redis = redis
        self.clock = clock
        self.env = os.environ if env is None else env
        self._reserve = redis.register_script(_RESERVE)
        self._set = redis.register_script(_SET)

    def configured(self) -> tuple[str, str, dt.datetime | None]:
        """(tier name, source, since): the newest recorded setting, else the environment's,
        else DEFAULT_TIER."""
        stored = self.redis.hgetall(CURRENT_KEY)
        if stored.get("name") in TIER_LIMITS:
            return stored["name"], stored.get("source") or "", _from_ms(stored["at"])
        from_env = (self.env.get(TIER_ENV) or "").strip().upper()
        if from_env:
            limit_of(from_env)  # a typo in the deployment fails loudly, not as the default
            return from_env, "env", None
        return DEFAULT_TIER, "default", None

    def reserve(self, contact: str) -> TierDecision:
        """Count `contact` against the tier if there is room (atomic across processes): a
        contact already reached in the last 24 h is always allowed and not counted again."""
        if not contact:
            raise ValueError("the tier counts contacts: a contact id is needed")
        limit = limit_of(self.configured()[0])
        now = self.clock.now()
        allowed, used, oldest = self._reserve(
            keys=[CONTACTS_KEY],
            args=[_to_ms(now), int(WINDOW.total_seconds() * 1000), -1 if limit is None else limit, contact])
        retry_at = None if allowed or float(oldest) < 0 else _from_ms(oldest) + WINDOW
        return TierDecision(bool(allowed), int(used), limit, retry_at)

    def usage(self) -> TierUsage:
        name, source, since = self.configured()
        floor = _to_ms(self.clock.now() - WINDOW)
        # Read-only: members at or below the floor have left the window even if no reserve has
        # pruned them yet.
        used = self.redis.zcount(CONTACTS_KEY, f"({floor}", "+inf")
        oldest = self.redis.zrangebyscore(CONTACTS_KEY, f"({floor}", "+inf", start=0, num=1, withscores=True)
        next_free = _from_ms(oldest[0][1]) + WINDOW if oldest else None
        return TierUsage(name, int(used), limit_of(name), next_free, source, since)

    def set_tier(self, name: str, *, source: str, at: dt.datetime | None = None) -> bool:
        """Record the tier Meta (source "webhook") or an operator set at `at` (default now).
        True when it is now the tier in force; False when a newer setting stands."""
        name = name.strip().upper()
        limit_of(name)
        if not source:
            raise ValueError("a tier change needs a source")
        if at is not None and at.tzinfo is None:
            raise ValueError("tier times must be timezone-aware")
        now = self.clock.now()
        at = now if at is None or at > now + FUTURE_TOLERANCE else at
        result = self._set(keys=[CURRENT_KEY, LOG_KEY], args=[name, source, _to_ms(at), _to_ms(now), LOG_MAX])
        return int(result) != 0

    def history(self, limit: int = LOG_MAX) -> list[TierChange]:
        """Tier changes as recorded, newest first."""
        out = []
        for raw in self.redis.lrange(LOG_KEY, 0, limit - 1):
            data = json.loads(raw)
            out.append(TierChange(data["name"], data["source"], _from_ms(data["at"]),
                                  _from_ms(data["recorded_at"]), bool(data["applied"])))
        return out
