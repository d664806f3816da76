"""Per-recipient pacing of outbound messages (Meta's pair rate), shared by every process.

Numbers (defaults, env overrides in PacingPolicy.from_env): bursts of up to 10 messages go out at
once, sustained sending is spaced 6 s apart — Meta's pair rate is about one message per 6 s, with
bursts tolerated (up to ~45) but "borrowed" from later. A send that would wait more than 90 s is
refused rather than held.

Key `wa:pace:{recipient}` (string, GCRA theoretical arrival time in ms; expires when idle).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from core.clock import SYSTEM_CLOCK, Clock


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
