"""Many idle workers, one message: one wake-up sends one worker to the queue, not all of them
(a pool sized to hide Graph latency has dozens; each claim is a Redis round trip)."""
from __future__ import annotations

import asyncio

from connector.inbox.pool import WorkerPool
from connector.inbox.queue import Ingest

from tests.connector.inbox.support import put, until


class CountingIngest(Ingest):
    """The real queue, counting the claims the workers make."""

    def __init__(self, redis_client):
        super().__init__(redis_client)
        self.claims = 0

    def claim(self, owner):
        self.claims += 1
        return super().claim(owner)


async def test_a_wake_up_sends_one_idle_worker_and_each_claimed_conversation_one_more(redis_client):
    ingest = CountingIngest(redis_client)
    handled = []

    async def handle(item):
        handled.append(item.wamid)

    # No poll within the test: only wake-ups send workers to the queue.
    pool = WorkerPool(ingest, handle, size=32, poll_seconds=60)
    await pool.start()
    try:
        assert await until(lambda: ingest.claims == 32)  # every worker's first look, found nothing
        await asyncio.sleep(0.1)
        for n in range(3):
            put(ingest, f"3460{n}", f"wamid.w{n}")
            pool.wake()
            assert await until(lambda: len(handled) == n + 1)
        await asyncio.sleep(0.2)  # room for a herd of claims to show up
    finally:
        await pool.stop()
    # Per message: the woken worker's claim, and the one it passes on (which finds nothing).
    assert ingest.claims - 32 <= 3 * 3
