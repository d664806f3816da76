"""Durable, deduplicated intake: every inbound message is in Redis before Meta gets its 200.

Redis layout (owned here):
  wa:seen:{wamid}   "q" queued → "s" started → "d" done; TTL 8 days because Meta retries a
                    webhook for up to 7 days. "done" is what stops a restart answering twice.
  wa:inbox:{conv}   FIFO of JSON items for one customer; an item leaves only after it was handled.
  wa:ready          list of conversation ids waiting for a worker.
  wa:active         set of conversation ids owned by the scheduler, i.e. in wa:ready or held
                    by a worker. A conversation is pushed to wa:ready only when it enters this
                    set, so it is never in wa:ready twice and never held by two workers: that
                    is what keeps one customer's messages in order while others run in parallel.

Dedupe + enqueue + schedule is one Lua script, so two concurrent deliveries of the same
webhook cannot both queue the message, and a worker releasing a conversation cannot miss a
message that arrives at the same moment (the release is a script too).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Iterable

import redis


logger = logging.getLogger(__name__)

SEEN_TTL_SECONDS = 8 * 24 * 3600
READY = "wa:ready"
ACTIVE = "wa:active"
QUEUED, STARTED, DONE = "q", "s", "d"


def seen_key(wamid: str) -> str:
    return f"wa:seen:{wamid}"


def inbox_key(conv: str) -> str:
    return f"wa:inbox:{conv}"


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

# Removes the handled head (only if it is the item the worker handled), marks it done, and
# either hands the conversation back to wa:ready (more items: round-robin, so one chatty
# customer cannot starve the others) or releases it.
_COMPLETE = """
local head = redis.call('LINDEX', KEYS[1], 0)
if head then
  local ok, item = pcall(cjson.decode, head)
  if ok and item['wamid'] == ARGV[2] then
    redis.call('LPOP', KEYS[1])
  end
end
if ARGV[2] ~= '' then
  if redis.call('EXISTS', KEYS[4]) == 1 then
    redis.call('SET', KEYS[4], 'd', 'KEEPTTL')
  else
    redis.call('SET', KEYS[4], 'd', 'EX', ARGV[3])
  end
end
if redis.call('LLEN', KEYS[1]) > 0 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
redis.call('SREM', KEYS[3], ARGV[1])
return 0
"""

# After a restart nobody holds a conversation any more: rebuild wa:ready/wa:active from the
# inboxes that still have items. Members of wa:active are read inside the script so a
# conversation enqueued while the caller was scanning is not dropped.
_RECOVER = """
local candidates = {}
for _, conv in ipairs(ARGV) do candidates[conv] = true end
for _, conv in ipairs(redis.call('SMEMBERS', KEYS[2])) do candidates[conv] = true end
for _, conv in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do candidates[conv] = true end
redis.call('DEL', KEYS[1], KEYS[2])
local n = 0
for conv, _ in pairs(candidates) do
  if redis.call('LLEN', 'wa:inbox:' .. conv) > 0 then
    redis.call('SADD', KEYS[2], conv)
    redis.call('RPUSH', KEYS[1], conv)
    n = n + 1
  end
end
return n
"""


@dataclass(frozen=True)
class QueuedItem:
    conv: str
    wamid: str
    envelope: dict
    raw: str


class Ingest:
    def __init__(self, redis_client: redis.Redis, seen_ttl: int = SEEN_TTL_SECONDS) -> None:
        self.redis = redis_client
        self.seen_ttl = seen_ttl
        self._enqueue = redis_client.register_script(_ENQUEUE)
        self._complete = redis_client.register_script(_COMPLETE)
        self._recover = redis_client.register_script(_RECOVER)

    def enqueue(self, conv: str, message: Any) -> bool:
        """True when the message is new and now queued; False for a duplicate delivery."""
        item = json.dumps(
            {"conv": conv, "wamid": message.wamid, "envelope": message.envelope},
            separators=(",", ":"), ensure_ascii=False,
        )
        added = self._enqueue(
            keys=[seen_key(message.wamid), inbox_key(conv), READY, ACTIVE],
            args=[conv, item, self.seen_ttl],
        )
        return bool(added)

    def claim(self) -> str | None:
        """A conversation this caller now holds exclusively, or None when nothing is ready."""
        return self.redis.lpop(READY)

    def head(self, conv: str) -> QueuedItem | None:
        raw = self.redis.lindex(inbox_key(conv), 0)
        if raw is None:
            return None
        data = json.loads(raw)
        return QueuedItem(data["conv"], data["wamid"], data["envelope"], raw)

    def state(self, wamid: str) -> str | None:
        return self.redis.get(seen_key(wamid))

    def mark_started(self, wamid: str) -> None:
        self.redis.set(seen_key(wamid), STARTED, keepttl=True)

    def complete(self, conv: str, wamid: str) -> bool:
        """Drop the handled head; True if the conversation went back to wa:ready."""
        return bool(self._complete(
            keys=[inbox_key(conv), READY, ACTIVE, seen_key(wamid)],
            args=[conv, wamid, self.seen_ttl],
        ))

    def pending(self, conv: str) -> int:
        return self.redis.llen(inbox_key(conv))

    def recover(self) -> int:
        """Call once at startup, before workers run. Returns conversations re-scheduled."""
        convs = [key[len("wa:inbox:"):] for key in self.redis.scan_iter("wa:inbox:*", count=500)]
        return int(self._recover(keys=[READY, ACTIVE], args=convs))


