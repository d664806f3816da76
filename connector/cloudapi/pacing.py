"""Pacing of outbound messages, shared by every process through Redis: per recipient (Meta's
pair rate) and for the whole number (its throughput, messages per second). Every send passes
both (connector/cloudapi/sender.py): first its recipient's slot, then, right before each
attempt, the number's.

Per recipient (PacingPolicy, env overrides in from_env): bursts of up to 10 messages go out at
once, sustained sending is spaced 6 s apart — Meta's pair rate is about one message per 6 s, with
bursts tolerated (up to ~45) but "borrowed" from later. A send that would wait more than 90 s is
refused rather than held.

Per number (ThroughputPolicy): Meta allows 80 messages per second by default (up to 1,000 once
raised), WHATSAPP_THROUGHPUT_MPS. A tenth of a second's worth goes at once, the rest is spaced so
that no second holds more than the limit (burst + rate x 1 s = mps). A send that would wait more
than 60 s for the number is refused.

Keys (GCRA theoretical arrival time in ms, expire when idle):
  wa:pace:{recipient}                per recipient
  wa:throughput:{phone_number_id}    per business number
"""
from __future__ import annotations

import math
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


@dataclass(frozen=True)
class ThroughputPolicy:
    mps: int = 80
    max_wait: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "ThroughputPolicy":
        env = os.environ if env is None else env
        mps = int(env.get("WHATSAPP_THROUGHPUT_MPS", cls.mps))
        if mps < 1:
            raise ValueError(f"WHATSAPP_THROUGHPUT_MPS={mps} must be at least 1 message per second")
        return cls(mps=mps)

    @property
    def burst(self) -> int:
        return max(1, self.mps // 10)

    @property
    def interval(self) -> float:
        """Seconds between sends once the burst is spent (burst + 1 s / interval = mps)."""
        return 1.0 / max(1, self.mps - self.burst)


# GCRA: `tat` is when the bucket is next empty. A send may go at tat - (burst-1) intervals;
# reserving moves tat one interval on. Times in whole microseconds from the caller's clock (80
# per second is 12,500 µs apart; integers keep the arithmetic exact in Lua's doubles).
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
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return wait
"""
_US = 1_000_000


class _Gcra:
    def __init__(self, redis, clock: Clock) -> None:
        self.clock = clock
        self._reserve = redis.register_script(_RESERVE)

    def _take(self, key: str, interval: float, burst: int, max_wait: float) -> float | None:
        """Seconds to wait before the slot reserved under `key`, or None when over `max_wait`."""
        now_us = int(self.clock.now().timestamp() * _US)
        # The interval rounded up: a slot is never handed out early.
        wait_us = self._reserve(keys=[key], args=[now_us, math.ceil(interval * _US), max(1, burst),
                                                  int(max_wait * _US)])
        return None if int(wait_us) < 0 else int(wait_us) / _US


class Pacer(_Gcra):
    """Per-recipient pacing shared by every process through Redis."""

    def __init__(self, redis, policy: PacingPolicy | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(redis, clock)
        self.policy = policy or PacingPolicy()

    def reserve(self, recipient: str) -> float | None:
        """Seconds to wait before sending to `recipient`, or None when over `max_wait`."""
        return self._take(f"wa:pace:{recipient}", self.policy.interval, self.policy.burst, self.policy.max_wait)


class Throughput(_Gcra):
    """The business number's messages-per-second limit, shared by every process through Redis."""

    def __init__(self, redis, phone_number_id: str, policy: ThroughputPolicy | None = None,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(redis, clock)
        self.key = f"wa:throughput:{phone_number_id}"
        self.policy = policy or ThroughputPolicy()

    def reserve(self) -> float | None:
        """Seconds to wait before the next message from this number, or None when over `max_wait`."""
        return self._take(self.key, self.policy.interval, self.policy.burst, self.policy.max_wait)
