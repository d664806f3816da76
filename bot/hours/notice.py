"""The after-hours notice: "we are closed, back at …" at most once per conversation and closed period."""
from __future__ import annotations

import datetime as dt

from bot.hours.schedule import BusinessHours, _aware
from core.clock import SYSTEM_CLOCK, Clock


_NOTICE_LUA = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then return 0 end
-- A late caller still holding an older period must not re-arm a newer one.
if current and current ~= 'none' and ARGV[1] ~= 'none'
   and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


class AfterHoursNotice:
    """Tell a customer "we are closed, back at …" at most once per conversation and closed period.

    A closed period is identified by its next-opening instant, stored in ``hours:notice:{conv}``.
    The compare-and-set runs as one Lua script, so two workers handling the same customer's
    burst of messages cannot both send it. The key's TTL is only garbage collection and is
    relative (it may be computed from a test clock far from Redis' own).
    """

    KEY = "hours:notice:{}"
    NEVER_TTL = 30 * 24 * 3600

    def __init__(self, redis, hours: BusinessHours, clock: Clock = SYSTEM_CLOCK) -> None:
        self.redis = redis
        self.hours = hours
        self.clock = clock
        self._script = redis.register_script(_NOTICE_LUA)

    def should_send(self, conv: str, at: dt.datetime | None = None) -> bool:
        """True exactly once per conversation and closed period; False while open."""
        at = _aware(at or self.clock.now())
        if self.hours.is_open(at):
            return False
        opening = self.hours.next_opening(at)
        if opening is None:
            period, ttl = "none", self.NEVER_TTL
        else:
            period = str(int(opening.timestamp()))
            ttl = int((opening - at).total_seconds()) + 24 * 3600
        return bool(self._script(keys=[self.KEY.format(conv)], args=[period, max(ttl, 60)]))

    def reset(self, conv: str) -> None:
        self.redis.delete(self.KEY.format(conv))
