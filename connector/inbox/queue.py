"""Durable, deduplicated intake: every inbound message is in Redis before Meta gets its 200.

Redis layout (owned here):
  wa:seen:{wamid}     "q" queued → "s" started → "d" done; TTL 8 days because Meta retries a
                      webhook for up to 7 days. "done" is what stops a restart answering twice.
  wa:inbox:{conv}     FIFO of JSON items for one customer; an item leaves only after it was
                      handled (or dead-lettered).
  wa:ready            list of conversation ids waiting for a worker.
  wa:active           set of conversation ids owned by the scheduler: in wa:ready, or held
                      under a lease. A conversation is pushed to wa:ready only when it enters
                      this set, so it is never in wa:ready twice.
  wa:lease:{conv}     the worker holding the conversation (owner id, unique per process and
                      worker), with a TTL its holder keeps renewing. Only the owner may complete
                      or give back; a lease that expired means its holder died, and recovery
                      (in any process) may then schedule the conversation again. One holder at a
                      time is what keeps one customer's messages in order while others run in
                      parallel, across processes too.
  wa:attempts:{wamid} how many times handling of the message began (TTL as wa:seen).
  wa:dead             list of JSON {conv, wamid, raw, reason, attempts, at}: messages taken out
                      of an inbox because they could not be handled (newest last, capped).

Every change of ownership is one Lua script (dedupe + enqueue + schedule; pop + lease;
complete / give back / dead-letter + release; recovery), so no interleaving of processes can
schedule a conversation twice or miss a message that arrives while a worker lets go. Items are
compared as raw bytes, never decoded in Lua: an item Redis's cjson rejects must not be able to
keep itself at the head of the inbox.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import redis
from redis.client import NEVER_DECODE

from core.clock import SYSTEM_CLOCK, Clock

logger = logging.getLogger(__name__)

SEEN_TTL_SECONDS = 8 * 24 * 3600
LEASE_SECONDS = 30.0
DEAD_MAX = 10_000
READY = "wa:ready"
ACTIVE = "wa:active"
DEAD = "wa:dead"
INBOX_PREFIX = "wa:inbox:"
LEASE_PREFIX = "wa:lease:"
QUEUED, STARTED, DONE = "q", "s", "d"


def seen_key(wamid: str) -> str:
    return f"wa:seen:{wamid}"


def attempts_key(wamid: str) -> str:
    return f"wa:attempts:{wamid}"


def inbox_key(conv: str) -> str:
    return INBOX_PREFIX + conv


def lease_key(conv: str) -> str:
    return LEASE_PREFIX + conv


_ENQUEUE = """
if redis.call('SET', KEYS[1], 'q', 'NX', 'EX', ARGV[3]) == false then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[2])
if redis.call('SADD', KEYS[4], ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[3], ARGV[1])
end
return 1
"""

# A conversation is never in wa:ready while leased (every script below keeps that), so NX only
# guards the invariant: should it ever fail, the holder re-queues the conversation as it lets go.
_CLAIM = """
local conv = redis.call('LPOP', KEYS[1])
if not conv then return false end
if redis.call('SET', ARGV[1] .. conv, ARGV[2], 'NX', 'PX', ARGV[3]) then return conv end
return false
"""

_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

# The scripts that let go of a conversation share this frame: KEYS[1..4] = lease, inbox, ready,
# active; ARGV[1..2] = owner, conv. Not the owner any more (the lease expired and someone else
# may hold the conversation): touch nothing. Letting go hands the conversation back to wa:ready
# when items wait (round-robin, so one chatty customer cannot starve the others).
_IF_OWNER = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
"""
_LET_GO = """
redis.call('DEL', KEYS[1])
if redis.call('LLEN', KEYS[2]) > 0 then
  redis.call('RPUSH', KEYS[3], ARGV[2])
  return 1
end
redis.call('SREM', KEYS[4], ARGV[2])
return 0
"""

# KEYS[5..6] = seen, attempts; ARGV[3..4] = the raw item handled, seen TTL.
_COMPLETE = _IF_OWNER + """
if redis.call('LINDEX', KEYS[2], 0) == ARGV[3] then redis.call('LPOP', KEYS[2]) end
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('SET', KEYS[5], 'd', 'KEEPTTL')
else
  redis.call('SET', KEYS[5], 'd', 'EX', ARGV[4])
end
redis.call('DEL', KEYS[6])
""" + _LET_GO

# KEYS[5..6] = dead list, attempts; ARGV[3..5] = the raw item, the dead-letter entry, cap.
_DEAD_LETTER = _IF_OWNER + """
if redis.call('LINDEX', KEYS[2], 0) == ARGV[3] then
  redis.call('LPOP', KEYS[2])
  redis.call('RPUSH', KEYS[5], ARGV[4])
  redis.call('LTRIM', KEYS[5], -tonumber(ARGV[5]), -1)
end
redis.call('DEL', KEYS[6])
""" + _LET_GO

_GIVE_BACK = _IF_OWNER + _LET_GO

_START = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[1], 's', 'KEEPTTL')
else
  redis.call('SET', KEYS[1], 's', 'EX', ARGV[1])
end
local n = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return n
"""

# Schedules only what nobody schedules: a conversation with items, no lease (its holder, if it
# had one, died and the lease expired) and not in wa:ready. Candidates are wa:active's members
# (read here, so one enqueued while the caller scanned is not missed) and the scanned inboxes.
# A live holder's conversation and the waiting line are left exactly as they are.
_RECOVER = """
local waiting = {}
for _, conv in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do waiting[conv] = true end
local candidates = {}
for i = 3, #ARGV do candidates[ARGV[i]] = true end
for _, conv in ipairs(redis.call('SMEMBERS', KEYS[2])) do candidates[conv] = true end
local n = 0
for conv, _ in pairs(candidates) do
  if not waiting[conv] and redis.call('EXISTS', ARGV[2] .. conv) == 0 then
    if redis.call('LLEN', ARGV[1] .. conv) > 0 then
      redis.call('SADD', KEYS[2], conv)
      redis.call('RPUSH', KEYS[1], conv)
      n = n + 1
    else
      redis.call('SREM', KEYS[2], conv)
    end
  end
end
return n
"""


@dataclass(frozen=True)
class QueuedItem:
    conv: str
    wamid: str
    envelope: dict
    raw: bytes  # exactly as stored: what complete/dead_letter compare the head against


@dataclass(frozen=True)
class Backlog:
    ready: int                # conversations waiting for a worker
    messages: int             # messages not yet handled, those being handled included
    oldest_at: float | None   # epoch seconds the oldest of them was queued


def raw_text(raw: bytes) -> str:
    """An item as text for people (wa:dead, the console), whatever bytes it holds."""
    return raw.decode("utf-8", "backslashreplace")


class Undecodable(ValueError):
    """The head of an inbox is not an item this code can read (not UTF-8, not JSON, wrong
    shape). Retrying cannot help, so the worker dead-letters it at once."""

    def __init__(self, raw: bytes, reason: str) -> None:
        super().__init__(reason)
        self.raw = raw
        self.reason = reason


class Ingest:
    def __init__(
        self,
        redis_client: redis.Redis,
        seen_ttl: int = SEEN_TTL_SECONDS,
        lease_seconds: float = LEASE_SECONDS,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.redis = redis_client
        self.seen_ttl = seen_ttl
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._enqueue = redis_client.register_script(_ENQUEUE)
        self._claim = redis_client.register_script(_CLAIM)
        self._renew = redis_client.register_script(_RENEW)
        self._start = redis_client.register_script(_START)
        self._complete = redis_client.register_script(_COMPLETE)
        self._dead_letter = redis_client.register_script(_DEAD_LETTER)
        self._give_back = redis_client.register_script(_GIVE_BACK)
        self._recover = redis_client.register_script(_RECOVER)

    def enqueue(self, conv: str, wamid: str, envelope: dict) -> bool:
        """True when the message is new and now queued; False for a duplicate delivery."""
        # ASCII-only JSON: a lone surrogate escape in Meta's payload (a text cut inside an
        # emoji) survives as an escape instead of making the item unencodable.
        # `at`: when it was queued, for the backlog's age (metrics); nothing else reads it.
        item = json.dumps({"conv": conv, "wamid": wamid, "envelope": envelope, "at": self.clock.now().timestamp()},
                          separators=(",", ":"))
        added = self._enqueue(
            keys=[seen_key(wamid), inbox_key(conv), READY, ACTIVE],
            args=[conv, item, self.seen_ttl],
        )
        return bool(added)

    # --- leases: every call below names its owner, and only the owner's take effect --------

    def claim(self, owner: str) -> str | None:
        """A conversation now leased to `owner`, or None when nothing is ready."""
        return self._claim(keys=[READY], args=[LEASE_PREFIX, owner, self._lease_ms()])

    def renew(self, conv: str, owner: str) -> bool:
        """False when the lease is no longer `owner`'s: it expired and may be someone else's."""
        return bool(self._renew(keys=[lease_key(conv)], args=[owner, self._lease_ms()]))

    def head(self, conv: str) -> QueuedItem | None:
        """The oldest item, or None for an empty inbox. Raises Undecodable for an unreadable one."""
        raw = self.redis.execute_command("LINDEX", inbox_key(conv), 0, **{NEVER_DECODE: True})
        if raw is None:
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
            return QueuedItem(data["conv"], data["wamid"], data["envelope"], raw)
        except (ValueError, KeyError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
            raise Undecodable(raw, f"undecodable item: {exc}") from exc

    def state(self, wamid: str) -> str | None:
        return self.redis.get(seen_key(wamid))

    def attempts(self, wamid: str) -> int:
        return int(self.redis.get(attempts_key(wamid)) or 0)

    def mark_started(self, wamid: str) -> int:
        """Mark the message started and count the attempt; returns attempts so far."""
        return int(self._start(keys=[seen_key(wamid), attempts_key(wamid)], args=[self.seen_ttl]))

    def complete(self, conv: str, owner: str, item: QueuedItem) -> int:
        """Drop the handled head and let go. 1: back in wa:ready (more items), 0: released,
        -1: `owner` no longer held the conversation, nothing changed."""
        return int(self._complete(
            keys=[*self._frame(conv), seen_key(item.wamid), attempts_key(item.wamid)],
            args=[owner, conv, item.raw, self.seen_ttl],
        ))

    def give_back(self, conv: str, owner: str) -> int:
        """Let go without removing anything (the head is retried later); same results as complete."""
        return int(self._give_back(keys=self._frame(conv), args=[owner, conv]))

    def dead_letter(self, conv: str, owner: str, raw: bytes, wamid: str, reason: str, attempts: int) -> int:
        """Move the head (if it is still `raw`) to wa:dead and let go; same results as complete."""
        entry = json.dumps({
            "conv": conv, "wamid": wamid, "raw": raw_text(raw),
            "reason": reason, "attempts": attempts, "at": self.clock.now().isoformat(),
        })
        return int(self._dead_letter(
            keys=[*self._frame(conv), DEAD, attempts_key(wamid)],
            args=[owner, conv, raw, entry, DEAD_MAX],
        ))

    def dead(self, count: int = 50) -> list[dict]:
        """The newest dead letters first."""
        return [json.loads(entry) for entry in reversed(self.redis.lrange(DEAD, -count, -1))]

    def pending(self, conv: str) -> int:
        return self.redis.llen(inbox_key(conv))

    def backlog(self) -> Backlog:
        """What waits, for metrics: one pipelined read of every scheduled conversation's inbox."""
        convs = sorted(self.redis.smembers(ACTIVE))
        pipe = self.redis.pipeline(transaction=False)
        pipe.llen(READY)
        for conv in convs:
            pipe.llen(inbox_key(conv))
            pipe.execute_command("LINDEX", inbox_key(conv), 0, **{NEVER_DECODE: True})
        ready, *inboxes = pipe.execute()
        queued_at = []
        for head in inboxes[1::2]:
            try:
                queued_at.append(float(json.loads(head)["at"]))
            except (TypeError, ValueError, KeyError):
                continue  # empty by now, unreadable (the worker dead-letters it), or queued before `at`
        return Backlog(int(ready), sum(int(n) for n in inboxes[0::2]), min(queued_at, default=None))

    def recover(self) -> int:
        """Schedule conversations whose holder died (lease expired) or that nobody schedules.
        Safe at any time, from any process. Returns conversations re-scheduled."""
        convs = [key[len(INBOX_PREFIX):] for key in self.redis.scan_iter(INBOX_PREFIX + "*", count=500)]
        return int(self._recover(keys=[READY, ACTIVE], args=[INBOX_PREFIX, LEASE_PREFIX, *convs]))

    def _frame(self, conv: str) -> list[str]:
        return [lease_key(conv), inbox_key(conv), READY, ACTIVE]

    def _lease_ms(self) -> int:
        return max(1, int(self.lease_seconds * 1000))
