"""Login throttling: one policy (N failed attempts per window, per username and per IP)."""
from __future__ import annotations

from dataclasses import dataclass

import redis

# One hash tag for every budget: an attempt is checked and counted against the user's and the
# address's budgets in one script, which on Redis Cluster must touch one slot.
PREFIX = "console:{throttle}"

# KEYS: the user and IP budgets; ARGV: limit, window seconds. Returns the wait (seconds) when a
# budget is spent, else 0 after counting this attempt against both.
_ACQUIRE = """
local wait = 0
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[1]) then
    local ttl = redis.call('TTL', key)
    if ttl <= 0 then ttl = tonumber(ARGV[2]) end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'EX', ARGV[2], 'NX')
  redis.call('INCR', key)
end
return 0
"""

# Gives back one attempt; never creates the key (a bare DECR would leave one with no TTL).
_REFUND = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 1
"""


@dataclass(frozen=True)
class LoginThrottle:
    redis: redis.Redis
    limit: int = 5
    window_seconds: int = 300

    def _keys(self, username: str, ip: str) -> list[str]:
        # Usernames are case-folded so "Ana" and "ana" share one budget.
        return [f"{PREFIX}:user:{username.strip().lower()}", f"{PREFIX}:ip:{ip}"]

    def retry_after(self, username: str, ip: str) -> int | None:
        """Seconds until another attempt is allowed, or None when the caller may try now."""
        waits = []
        for key in self._keys(username, ip):
            count = self.redis.get(key)
            if count is not None and int(count) >= self.limit:
                ttl = self.redis.ttl(key)
                waits.append(ttl if ttl and ttl > 0 else self.window_seconds)
        return max(waits) if waits else None

    def acquire(self, username: str, ip: str) -> int | None:
        """Count an attempt before the password is checked; seconds to wait when refused.

        Checking and counting in one step is what stops a burst of parallel guesses: with
        retry_after() then record_failure() they all pass the check before any is counted.
        """
        wait = self.redis.register_script(_ACQUIRE)(keys=self._keys(username, ip),
                                                    args=[self.limit, self.window_seconds])
        return int(wait) or None

    def record_failure(self, username: str, ip: str) -> None:
        pipe = self.redis.pipeline()
        for key in self._keys(username, ip):
            # The window starts at the first failure (SET NX carries the TTL, INCR keeps it),
            # so later failures do not extend it. EXPIRE NX would need Redis 7.
            pipe.set(key, 0, ex=self.window_seconds, nx=True)
            pipe.incr(key)
        pipe.execute()

    def record_success(self, username: str, ip: str | None = None) -> None:
        # Only the username budget is forgiven: an IP guessing many accounts stays limited.
        self.redis.delete(self._keys(username, "-")[0])
        if ip is not None:
            # acquire() counted this attempt; a correct password is not a failure, so many
            # agents behind one office address can all sign in.
            self.redis.register_script(_REFUND)(keys=[self._keys(username, ip)[1]])
