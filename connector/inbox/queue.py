"""Durable, deduplicated intake: every inbound message is in Redis before Meta gets its 200.

Redis layout (owned here). Every key carries the hash tag of its conversation's shard,
`{wa<n>}` with n = crc32(conv) % SHARDS, so each script below touches one hash slot and runs on
Redis Cluster; the shards spread the queue over the cluster's nodes:
  wa:{wa<n>}:seen:<wamid>     "q" queued → "s" started → "d" done; TTL 8 days because Meta
                              retries a webhook for up to 7 days. "done" is what stops a
                              restart answering twice. In the shard of the message's conversation.
  wa:{wa<n>}:inbox:<conv>     FIFO of JSON items for one customer; an item leaves only after it
                              was handled (or dead-lettered).
  wa:{wa<n>}:ready            list of the shard's conversation ids waiting for a worker.
  wa:{wa<n>}:active           set of the shard's conversation ids owned by the scheduler: in
                              ready, or held under a lease. A conversation is pushed to ready only
                              when it enters this set, so it is never in ready twice.
  wa:{wa<n>}:lease:<conv>     the worker holding the conversation (owner id, unique per process
                              and worker), with a TTL its holder keeps renewing. Only the owner
                              may complete or give back; a lease that expired means its holder
                              died, and recovery (in any process) may then schedule the
                              conversation again. One holder at a time is what keeps one
                              customer's messages in order while others run in parallel, across
                              processes too.
  wa:{wa<n>}:attempts:<wamid> how many times handling of the message began (TTL as seen).
  wa:{wa<n>}:dead             list of JSON {conv, wamid, raw, reason, attempts, at}: messages
                              taken out of an inbox because they could not be handled (newest
                              last, capped per shard); dead() merges the shards.

Every change of ownership is one Lua script (dedupe + enqueue + schedule; pop + lease;
complete / give back / dead-letter + release; recovery), so no interleaving of processes can
schedule a conversation twice or miss a message that arrives while a worker lets go. A
conversation lives in one shard for good, so each of those steps is within one shard and keeps
its atomicity on a cluster. Every key a script touches is passed in KEYS: a claim first peeks at
the heads of the ready lists and then claims the head it saw (the script pops it only if it is
still the head, else a racing worker took it and the claim looks again); recovery passes the
inboxes and leases of the conversations it checks. Workers visit the shards round-robin from a
rotating start, so no shard's customers wait behind another's. SHARDS is part of the layout:
changing it strands what is queued under the old count. Items are compared as raw bytes, never
decoded in Lua: an item Redis's cjson rejects must not be able to keep itself at the head of the
inbox.
"""
from __future__ import annotations

import json
import logging
import os
import zlib
from dataclasses import dataclass
from itertools import count

import redis
from redis.client import NEVER_DECODE

from core.channels import INBOX_READY
from core.clock import SYSTEM_CLOCK, Clock

logger = logging.getLogger(__name__)

SEEN_TTL_SECONDS = 8 * 24 * 3600
# WA_LEASE_SECONDS: how soon a dead process's conversations are taken over (tests use 2 s).
LEASE_SECONDS = float(os.environ.get("WA_LEASE_SECONDS") or 30.0)
SHARDS = 16
DEAD_MAX = 10_000 // SHARDS  # per shard: about the newest 10 000 in all
QUEUED, STARTED, DONE = "q", "s", "d"


def shard_of(conv: str) -> int:
    return zlib.crc32(conv.encode("utf-8")) % SHARDS


def _shard_prefix(shard: int) -> str:
    return f"wa:{{wa{shard}}}:"


def _in_shard(conv: str, name: str) -> str:
    return _shard_prefix(shard_of(conv)) + name


def _seen_in(shard: int, wamid: str) -> str:
    return _shard_prefix(shard) + f"seen:{wamid}"


def seen_key(conv: str, wamid: str) -> str:
    return _seen_in(shard_of(conv), wamid)


def attempts_key(conv: str, wamid: str) -> str:
    return _in_shard(conv, f"attempts:{wamid}")


def inbox_key(conv: str) -> str:
    return _in_shard(conv, f"inbox:{conv}")


def lease_key(conv: str) -> str:
    return _in_shard(conv, f"lease:{conv}")


def ready_key(shard: int) -> str:
    return _shard_prefix(shard) + "ready"


def active_key(shard: int) -> str:
    return _shard_prefix(shard) + "active"


def dead_key(shard: int) -> str:
    return _shard_prefix(shard) + "dead"


INBOX_PATTERN = "wa:{wa*}:inbox:*"


_ENQUEUE = """
if redis.call('SET', KEYS[1], 'q', 'NX', 'EX', ARGV[3]) == false then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[2])
if redis.call('SADD', KEYS[4], ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[3], ARGV[1])
  return 2
end
return 1
"""

# KEYS[1..2] = ready, the lease of ARGV[1] (the head the caller saw). A conversation is never
# in ready while leased (every script below keeps that), so NX only guards the invariant: should
# it ever fail, the holder re-queues the conversation as it lets go.
_CLAIM = """
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return false end
redis.call('LPOP', KEYS[1])
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return ARGV[1] end
return false
"""

_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

# The scripts that let go of a conversation share this frame: KEYS[1..4] = lease, inbox, ready,
# active (all in the conversation's shard); ARGV[1..2] = owner, conv. Not the owner any more
# (the lease expired and someone else may hold the conversation): touch nothing. Letting go
# hands the conversation back to ready when items wait (round-robin, so one chatty customer
# cannot starve the others).
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
# had one, died and the lease expired) and not in ready. KEYS[1..2] = one shard's ready, active;
# then the inbox and lease of each candidate in ARGV (active's members and the scanned inboxes,
# read just before: one enqueued since was scheduled by its enqueue). A live holder's
# conversation and the waiting line are left exactly as they are.
_RECOVER = """
local waiting = {}
for _, conv in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do waiting[conv] = true end
local n = 0
for i, conv in ipairs(ARGV) do
  local inbox, lease = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
  if not waiting[conv] and redis.call('EXISTS', lease) == 0 then
    if redis.call('LLEN', inbox) > 0 then
      redis.call('SADD', KEYS[2], conv)
      redis.call('RPUSH', KEYS[1], conv)
      waiting[conv] = true
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
    """An item as text for people (the dead lists, the console), whatever bytes it holds."""
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
        self._turn = count()  # where the next claim starts visiting the shards

    def enqueue(self, conv: str, wamid: str, envelope: dict) -> bool:
        """True when the message is new and now queued; False for a duplicate delivery."""
        # ASCII-only JSON: a lone surrogate escape in Meta's payload (a text cut inside an
        # emoji) survives as an escape instead of making the item unencodable.
        # `at`: when it was queued, for the backlog's age (metrics); nothing else reads it.
        item = json.dumps({"conv": conv, "wamid": wamid, "envelope": envelope, "at": self.clock.now().timestamp()},
                          separators=(",", ":"))
        added = self._enqueue(
            keys=[seen_key(conv, wamid), inbox_key(conv), ready_key(shard_of(conv)), active_key(shard_of(conv))],
            args=[conv, item, self.seen_ttl],
        )
        # 2: the conversation was scheduled now, so a worker must be woken for it. 1: it was
        # already ready (a worker was woken then) or held (its holder re-queues it on letting go).
        if added == 2:
            self.announce(conv)
        return bool(added)

    def announce(self, conv: str) -> None:
        """Wake the idle workers of every process (INBOX_READY) instead of leaving them to their
        next poll. Best effort: the item is queued, and a poll finds it without this."""
        try:
            self.redis.publish(INBOX_READY, conv)
        except redis.RedisError as exc:
            logger.warning("queued %s, but could not wake the workers (%s); they poll", conv, exc)

    # --- leases: every call below names its owner, and only the owner's take effect --------

    def claim(self, owner: str) -> str | None:
        """A conversation now leased to `owner`, or None when nothing is ready."""
        start = next(self._turn) % SHARDS
        order = [(start + i) % SHARDS for i in range(SHARDS)]
        for _ in range(SHARDS):  # a head taken by a racing worker: look again
            with self.redis.pipeline(transaction=False) as pipe:
                for shard in order:
                    pipe.lindex(ready_key(shard), 0)
                heads = pipe.execute()
            waiting = [(shard, conv) for shard, conv in zip(order, heads) if conv is not None]
            if not waiting:
                return None
            for shard, conv in waiting:
                if self._claim(keys=[ready_key(shard), lease_key(conv)], args=[conv, owner, self._lease_ms()]):
                    return conv
        return None

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

    def state(self, wamid: str, conv: str | None = None) -> str | None:
        """Where the message is. Without its conversation (intake checks a redelivery before it
        resolves the sender) every shard is asked, in one round trip."""
        if conv is not None:
            return self.redis.get(seen_key(conv, wamid))
        with self.redis.pipeline(transaction=False) as pipe:
            for shard in range(SHARDS):
                pipe.get(_seen_in(shard, wamid))
            found = [state for state in pipe.execute() if state is not None]
        # Two only when a number change moved the sender to another conversation in between.
        return max(found, key=(QUEUED + STARTED + DONE).index, default=None)

    def attempts(self, conv: str, wamid: str) -> int:
        return int(self.redis.get(attempts_key(conv, wamid)) or 0)

    def mark_started(self, conv: str, wamid: str) -> int:
        """Mark the message started and count the attempt; returns attempts so far."""
        return int(self._start(keys=[seen_key(conv, wamid), attempts_key(conv, wamid)], args=[self.seen_ttl]))

    def complete(self, conv: str, owner: str, item: QueuedItem) -> int:
        """Drop the handled head and let go. 1: back in ready (more items), 0: released,
        -1: `owner` no longer held the conversation, nothing changed."""
        return int(self._complete(
            keys=[*self._frame(conv), seen_key(conv, item.wamid), attempts_key(conv, item.wamid)],
            args=[owner, conv, item.raw, self.seen_ttl],
        ))

    def give_back(self, conv: str, owner: str) -> int:
        """Let go without removing anything (the head is retried later); same results as complete."""
        return int(self._give_back(keys=self._frame(conv), args=[owner, conv]))

    def dead_letter(self, conv: str, owner: str, raw: bytes, wamid: str, reason: str, attempts: int) -> int:
        """Move the head (if it is still `raw`) to its shard's dead list and let go; same results as complete."""
        entry = json.dumps({
            "conv": conv, "wamid": wamid, "raw": raw_text(raw),
            "reason": reason, "attempts": attempts, "at": self.clock.now().isoformat(),
        })
        return int(self._dead_letter(
            keys=[*self._frame(conv), dead_key(shard_of(conv)), attempts_key(conv, wamid)],
            args=[owner, conv, raw, entry, DEAD_MAX],
        ))

    def dead(self, count: int = 50) -> list[dict]:
        """The newest dead letters first, from every shard."""
        with self.redis.pipeline(transaction=False) as pipe:
            for shard in range(SHARDS):
                pipe.lrange(dead_key(shard), -count, -1)
            entries = [json.loads(entry) for shard_entries in pipe.execute() for entry in reversed(shard_entries)]
        # Stable: entries of one shard with the same time stay newest first.
        return sorted(entries, key=lambda entry: entry["at"], reverse=True)[:count]

    def pending(self, conv: str) -> int:
        return self.redis.llen(inbox_key(conv))

    def backlog(self) -> Backlog:
        """What waits, for metrics: two pipelined reads, the shards' sets and ready lists, then
        every scheduled conversation's inbox (no script: single-key commands, Cluster-safe)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for shard in range(SHARDS):
                pipe.smembers(active_key(shard))
                pipe.llen(ready_key(shard))
            found = pipe.execute()
        convs = sorted(conv for members in found[0::2] for conv in members)
        ready = sum(int(n) for n in found[1::2])
        with self.redis.pipeline(transaction=False) as pipe:
            for conv in convs:
                pipe.llen(inbox_key(conv))
                pipe.execute_command("LINDEX", inbox_key(conv), 0, **{NEVER_DECODE: True})
            inboxes = pipe.execute() if convs else []
        queued_at = []
        for head in inboxes[1::2]:
            try:
                queued_at.append(float(json.loads(head)["at"]))
            except (TypeError, ValueError, KeyError):
                continue  # empty by now, unreadable (the worker dead-letters it), or queued before `at`
        return Backlog(ready, sum(int(n) for n in inboxes[0::2]), min(queued_at, default=None))

    def recover(self) -> int:
        """Schedule conversations whose holder died (lease expired) or that nobody schedules.
        Safe at any time, from any process. Returns conversations re-scheduled."""
        candidates: list[set[str]] = [set() for _ in range(SHARDS)]
        for key in self.redis.scan_iter(INBOX_PATTERN, count=500):
            conv = key.partition("}:inbox:")[2]
            candidates[shard_of(conv)].add(conv)
        with self.redis.pipeline(transaction=False) as pipe:
            for shard in range(SHARDS):
                pipe.smembers(active_key(shard))
            for shard, members in enumerate(pipe.execute()):
                candidates[shard] |= members
        recovered = 0
        for shard, convs in enumerate(candidates):
            if not convs:
                continue
            keys = [ready_key(shard), active_key(shard)]
            for conv in sorted(convs):
                keys += [inbox_key(conv), lease_key(conv)]
            recovered += int(self._recover(keys=keys, args=sorted(convs)))
        return recovered

    def _frame(self, conv: str) -> list[str]:
        return [lease_key(conv), inbox_key(conv), ready_key(shard_of(conv)), active_key(shard_of(conv))]

    def _lease_ms(self) -> int:
        return max(1, int(self.lease_seconds * 1000))
