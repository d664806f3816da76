"""A sent template goes into the conversation's history in Rasa's tracker, so when the customer
answers, the bot and the agent see what the business wrote.

It is a bot event appended without side effects (core/rasa_api.py `bot_template_event`, the shape
console/desk/history.py renders; nothing is sent again). Rasa may be down or restarting: the entry
waits in `out:{out}:history` (the store's hash tag: it is written with the send's hash) and is retried with growing pauses, never dropped; every failure is logged.
An entry is claimed by pushing its time forward, so two workers do not append it together; one
that dies after appending and before removing the entry appends it once more (a repeated history
line, which is harmless, rather than a missing one).

Keys (owned here): out:{out}:history  sorted set: send id → next attempt epoch ms.
"""
from __future__ import annotations

import asyncio
import logging

from core.clock import SYSTEM_CLOCK, Clock
from core.rasa_api import RasaError, RasaHttp, bot_template_event
from connector.outreach.store import PREFIX, Send, SendStore, send_key

logger = logging.getLogger(__name__)

HISTORY_KEY = PREFIX + "history"
CLAIM_MS = 60_000
# Pause before the n-th retry (seconds), the last one repeating: Rasa is usually back in a minute.
BACKOFF = (5, 15, 60, 300)
PENDING, DONE = "pending", "done"

# ARGV: now ms, limit, claimed-until ms.
_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[3], id) end
return ids
"""


def template_event(send: Send) -> dict:
    return bot_template_event(send.body, text=send.text, send_id=send.id, source="outreach",
                              timestamp=send.sent_at.timestamp() if send.sent_at else None)


class TrackerHistory:
    def __init__(self, store: SendStore, rasa: RasaHttp, clock: Clock = SYSTEM_CLOCK) -> None:
        self.store = store
        self.rasa = rasa
        self.clock = clock
        self.redis = store.redis
        self._claim = self.redis.register_script(_CLAIM)

    def enqueue(self, send_id: str) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(send_key(send_id), "history", PENDING)
        pipe.zadd(HISTORY_KEY, {send_id: self.store.now_ms()})
        pipe.execute()

    def pending(self) -> int:
        return self.redis.zcard(HISTORY_KEY)

    async def flush(self, limit: int = 50) -> int:
        """Append the entries that are due; returns how many were appended."""
        now = self.store.now_ms()
        ids = self._claim(keys=[HISTORY_KEY], args=[now, limit, now + CLAIM_MS])
        done = 0
        for send_id in ids:
            send = self.store.get(send_id)
            if send is None:  # expired long ago: nothing left to show
                self.redis.zrem(HISTORY_KEY, send_id)
                continue
            try:
                await asyncio.to_thread(self.rasa.append_events, send.contact, [template_event(send)], send=False)
            except RasaError as exc:
                tries = self.redis.hincrby(send_key(send_id), "history_tries", 1)
                pause = BACKOFF[min(tries, len(BACKOFF)) - 1]
                level = logging.ERROR if tries >= len(BACKOFF) else logging.WARNING
                logger.log(level, "template %s (send %s) not yet in %s's Rasa history (try %d: %s); "
                           "retrying in %d s", send.template, send_id, send.contact, tries, exc, pause)
                self.redis.zadd(HISTORY_KEY, {send_id: now + pause * 1000})
                continue
            pipe = self.redis.pipeline()
            pipe.hset(send_key(send_id), "history", DONE)
            pipe.zrem(HISTORY_KEY, send_id)
            pipe.execute()
            done += 1
        return done
