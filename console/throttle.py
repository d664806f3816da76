"""Login throttling: one policy (N failed attempts per window, per username and per IP)."""
from __future__ import annotations

from dataclasses import dataclass

import redis

PREFIX = "console:throttle"


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

    def record_failure(self, username: str, ip: str) -> None:
        pipe = self.redis.pipeline()
        for key in self._keys(username, ip):
            # The window starts at the first failure (SET NX carries the TTL, INCR keeps it),
            # so later failures do not extend it. EXPIRE NX would need Redis 7.
            pipe.set(key, 0, ex=self.window_seconds, nx=True)
            pipe.incr(key)
        pipe.execute()

    def record_success(self, username: str) -> None:
        # Only the username budget is forgiven: an IP guessing many accounts stays limited.
        self.redis.delete(self._keys(username, "-")[0])
