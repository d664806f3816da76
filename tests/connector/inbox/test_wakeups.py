"""Work queued by another process (an ingress, another Rasa) wakes idle workers over Redis
pub/sub instead of waiting for their next poll, also after Redis restarted; and the lease
length comes from WA_LEASE_SECONDS."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from connector.inbox.pool import WorkerPool
from connector.inbox.queue import Ingest
from core.channels import INBOX_READY
from core.redis_conn import EmbeddedRedis, free_port, get_redis

from tests.connector.inbox.support import put, until

ROOT = Path(__file__).resolve().parents[3]
# Far longer than any deadline below: a turn that happens was woken, not polled.
NEVER_POLLS = 120.0


def test_a_new_message_is_announced_to_every_process_and_a_duplicate_is_not(redis_client):
    spy = redis_client.pubsub(ignore_subscribe_messages=True)
    spy.subscribe(INBOX_READY)
    assert spy.get_message(timeout=2) is None  # (the confirmation, ignored)
    ingest = Ingest(redis_client)
    assert put(ingest, "a", "wamid.1") and not put(ingest, "a", "wamid.1")
    messages = []
    while (message := spy.get_message(timeout=0.5)) is not None:
        messages.append(message["data"])
    spy.close()
    assert messages == ["a"]


class Recorder:
    def __init__(self) -> None:
        self.handled: list[str] = []

    async def __call__(self, item) -> None:
        self.handled.append(item.wamid)


async def _idle_pool(client) -> tuple[WorkerPool, Recorder]:
    turns = Recorder()
    pool = WorkerPool(Ingest(client), turns, size=2, poll_seconds=NEVER_POLLS)
    await pool.start()
    assert await until(lambda: pool.running == 2 and pool.listening, 10)
    await asyncio.sleep(0.1)  # the workers' first claim found nothing; they now wait
    return pool, turns


def test_a_message_for_a_conversation_already_waiting_is_queued_without_a_second_announcement(redis_client):
    spy = redis_client.pubsub(ignore_subscribe_messages=True)
    spy.subscribe(INBOX_READY)
    assert spy.get_message(timeout=2) is None  # (the confirmation, ignored)
    ingest = Ingest(redis_client)
    assert put(ingest, "a", "wamid.1") and put(ingest, "a", "wamid.2") and put(ingest, "b", "wamid.3")
    messages = []
    while (message := spy.get_message(timeout=0.5)) is not None:
        messages.append(message["data"])
    spy.close()
    # The worker woken for "a" serves its inbox in order; a second wake-up would find nothing.
    assert messages == ["a", "b"] and ingest.pending("a") == 2


async def test_work_queued_by_another_process_wakes_an_idle_pool(redis_client, redis_url):
    pool, turns = await _idle_pool(redis_client)
    try:
        put(Ingest(get_redis(redis_url)), "a", "wamid.1")  # another process: no local wake()
        assert await until(lambda: turns.handled == ["wamid.1"], 20)
    finally:
        await pool.stop()


async def test_the_wake_up_resubscribes_after_redis_restarts():
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="redis-wakeups-")), port=free_port())
    url = server.start()
    client = get_redis(url, socket_connect_timeout=1, socket_timeout=2)
    pool, turns = await _idle_pool(client)
    try:
        server.stop()
        assert await until(lambda: not pool.listening, 10)
        server.start()
        assert await until(lambda: pool.listening, 20)
        await asyncio.sleep(0.1)  # the wake-up of the resubscription itself has been spent
        put(Ingest(get_redis(url)), "a", "wamid.1")
        assert await until(lambda: turns.handled == ["wamid.1"], 20)
    finally:
        await pool.stop()
        server.stop()


def test_the_lease_length_comes_from_wa_lease_seconds():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WA_LEASE_SECONDS": "2.5"}
    out = subprocess.run([sys.executable, "-c", "import redis; from connector.inbox.queue import Ingest; print(Ingest(redis.Redis()).lease_seconds)"],
                         env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "2.5"


# Many idle workers, one message: one wake-up sends one worker to the queue, not all of them
# (a pool sized to hide Graph latency has dozens; each claim is a Redis round trip).
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
        # Every worker's first look finds nothing; subscribing to other processes' wake-ups
        # sends one more look (work announced before the subscription).
        assert await until(lambda: ingest.claims >= 32 and pool.listening)
        await asyncio.sleep(0.2)
        before = ingest.claims
        for n in range(3):
            put(ingest, f"3460{n}", f"wamid.w{n}")  # announced: the pool's only wake-up
            assert await until(lambda: len(handled) == n + 1)
        await asyncio.sleep(0.2)  # room for a herd of claims to show up
    finally:
        await pool.stop()
    # Per message: the woken worker's claim, and the one it passes on (which finds nothing).
    assert ingest.claims - before <= 3 * 3
