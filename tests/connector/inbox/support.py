"""Helpers shared by the inbox tests: queue a real parsed message, run pools, poll."""
from __future__ import annotations

import asyncio

from connector.inbox.queue import SHARDS, Ingest, active_key, ready_key
from connector.webhook.inbound import parse_webhook
from tests.connector.conftest import text_webhook


def message(wa_id="34600", wamid="wamid.1", body="hola", ts=1750000000):
    return parse_webhook(text_webhook(wa_id, wamid, body, ts)).messages[0]


def put(ingest: Ingest, conv: str, wamid: str, body: str = "hola") -> bool:
    """Queue a text message from customer `conv`, as the webhook intake does."""
    m = message(conv, wamid, body)
    return ingest.enqueue(conv, m.wamid, m.envelope)


async def until(done, seconds: float = 5.0) -> bool:
    """Poll done() until it holds or the deadline passes; returns its last value."""
    for _ in range(int(seconds / 0.02)):
        if done():
            return True
        await asyncio.sleep(0.02)
    return bool(done())


async def run_pool_until(pool, done, steps: int = 100, settle: float = 0.0) -> None:
    """Run the workers until done() holds (or ~2 s per 100 steps), then stop them."""
    await pool.start()
    try:
        await until(done, steps * 0.02)
        await asyncio.sleep(settle)  # room for a wrong extra turn to show up
    finally:
        await pool.stop()


def waiting(redis_client) -> list[str]:
    """Every shard's ready list, one after the other."""
    return [conv for shard in range(SHARDS) for conv in redis_client.lrange(ready_key(shard), 0, -1)]


def scheduled(redis_client) -> set[str]:
    """Every shard's active set, together."""
    return set().union(*(redis_client.smembers(active_key(shard)) for shard in range(SHARDS)))


def wipe(redis_client, *, ready: bool = True, active: bool = False) -> None:
    """What an older release's recovery (or a hand edit) may have deleted."""
    keys = [ready_key(shard) for shard in range(SHARDS) if ready] + [active_key(shard) for shard in range(SHARDS) if active]
    redis_client.delete(*keys)
