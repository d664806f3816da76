"""Rasa's ticket lock on Redis, with every change of a lock one Lua script (endpoints.yml:
`lock_store: type: connector.channel.lock_store.AtomicRedisLockStore`).

Rasa's RedisLockStore reads a conversation's lock, changes it in Python and writes it back
(rasa #9213): two processes issuing a ticket at once both get ticket 0 and run the same
conversation's turns side by side, and a finish_serving or cleanup that overlaps an issue
writes back, or deletes, a lock without the ticket just issued. Our turns are already kept
apart by the inbox leases (connector/inbox/queue.py), but Rasa takes this lock for every
other writer of a tracker too: the console's agent replies (POST
/conversations/{id}/tracker/events, which may reach any Rasa process) and Rasa's own routes.

Redis layout (owned here): `<key_prefix>lock:{<conversation>}`, a hash of "next" (the
counter tickets are numbered from) and one field per live ticket, its number → the server
time (ms) it expires at. Times are Redis's own (TIME), so processes on machines whose clocks
disagree still agree on expiry. The key expires with its longest-lived ticket, so a process
killed while holding a lock leaves nothing behind for good. One key per script, named with
the conversation as hash tag: the scripts run on Redis Cluster as they are.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Optional, Text

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from connector.inbox.pool import TRANSIENT

# Shared head of every script: `now` in ms on the server's clock, expired tickets dropped, and
# `tidy()` that deletes a lock nobody holds or waits for and otherwise lets the key live as
# long as its longest ticket.
_HEAD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = {}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if fields[i] ~= 'next' then
    if tonumber(fields[i + 1]) <= now then
      redis.call('HDEL', KEYS[1], fields[i])
    else
      live[#live + 1] = {tonumber(fields[i]), tonumber(fields[i + 1])}
    end
  end
end
local function tidy()
  if #live == 0 then
    redis.call('DEL', KEYS[1])
    return
  end
  local last = 0
  for _, ticket in ipairs(live) do
    if ticket[2] > last then last = ticket[2] end
  end
  redis.call('PEXPIRE', KEYS[1], last - now)
end
"""

# ARGV[1] = lifetime (ms). Returns the ticket's number.
_ISSUE = _HEAD + """
local number = redis.call('HINCRBY', KEYS[1], 'next', 1) - 1
local expires = now + tonumber(ARGV[1])
redis.call('HSET', KEYS[1], number, expires)
live[#live + 1] = {number, expires}
tidy()
return number
"""

# Returns the live tickets, oldest first, as number, milliseconds left, number, …
_READ = _HEAD + """
table.sort(live, function(a, b) return a[1] < b[1] end)
local out = {}
for _, ticket in ipairs(live) do
  out[#out + 1] = ticket[1]
  out[#out + 1] = ticket[2] - now
end
tidy()
return out
"""

# ARGV[1] = the ticket served. The lock goes with its last ticket, in the same step, so a
# ticket issued meanwhile is never deleted with it.
_FINISH = _HEAD + """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  for i, ticket in ipairs(live) do
    if ticket[1] == tonumber(ARGV[1]) then table.remove(live, i) break end
  end
end
tidy()
return #live
"""

_TIDY = _HEAD + """
tidy()
return #live
"""


class AtomicRedisLockStore(RedisLockStore):
    """A RedisLockStore (so Rasa's checks for a multi-process lock store accept it) whose
    tickets are issued, served and dropped atomically."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # Rasa builds a custom lock store from its endpoint alone; the settings are Rasa's own.
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)
        self._issue = self.red.register_script(_ISSUE)
        self._read = self.red.register_script(_READ)
        self._finish = self.red.register_script(_FINISH)
        self._tidy = self.red.register_script(_TIDY)

    def key(self, conversation_id: Text) -> str:
        return f"{self.key_prefix}{{{conversation_id}}}"

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return int(self._issue(keys=[self.key(conversation_id)],
                                   args=[max(1, int(lock_lifetime * 1000))]))
        except TRANSIENT:
            # Redis away says nothing about the turn: as it is, the worker pool runs the turn
            # again once Redis is back. Wrapped in LockError (as Rasa's store does), the turn
            # failed and the customer got an apology instead of the answer.
            raise
        except Exception as e:
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        flat = self._read(keys=[self.key(conversation_id)])
        if not flat:
            return None  # no live ticket: Rasa's _acquire_lock then knows its own expired
        # Rasa checks expiry on this process's clock: each ticket gets what is left of its time.
        now = time.time()
        tickets = deque(Ticket(int(flat[i]), now + int(flat[i + 1]) / 1000) for i in range(0, len(flat), 2))
        return TicketLock(conversation_id, tickets)

    def update_lock(self, conversation_id: Text) -> None:
        self._tidy(keys=[self.key(conversation_id)])

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._finish(keys=[self.key(conversation_id)], args=[ticket_number])

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        # finish_serving already deleted the lock if this was its last ticket, atomically;
        # Rasa's check-then-delete here is what loses a ticket issued in between.
        self.finish_serving(conversation_id, ticket_number)

    def delete_lock(self, conversation_id: Text) -> None:
        self._log_deletion(conversation_id, bool(self.red.delete(self.key(conversation_id))))

    def save_lock(self, lock: TicketLock) -> None:
        # Writing a whole lock back is the read-modify-write this class exists to avoid.
        raise NotImplementedError("tickets change only through AtomicRedisLockStore's scripts")
