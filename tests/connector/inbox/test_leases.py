"""Several processes on one Redis: a conversation is held under a lease by one worker at a time,
and recovery takes over only conversations whose holder is gone (its lease expired)."""
from __future__ import annotations

import asyncio

from connector.inbox.pool import WorkerPool
from connector.inbox.queue import Ingest, lease_key

from tests.connector.inbox.support import put, scheduled, until, waiting, wipe

LEASE = 0.6  # short, so a takeover shows up quickly; renewed every LEASE / 3


class Turns:
    """Handlers for several pools ("processes"), recording who handled what; each turn waits
    until the test lets it finish, so it can start a second process mid-turn."""

    def __init__(self):
        self.handled: list[tuple[str, str]] = []
        self.finish = asyncio.Event()

    def of(self, process):
        async def handle(item):
            self.handled.append((process, item.wamid))
            await self.finish.wait()
        return handle


async def not_in_tracker(conv, wamid):
    return False


def test_recovery_leaves_a_live_holder_and_the_waiting_line_alone(redis_client):
    ingest = Ingest(redis_client)
    put(ingest, "a", "wamid.a1")
    put(ingest, "b", "wamid.b1")
    assert ingest.claim("first:0") == "a"  # a live worker holds "a"; "b" waits in its ready list
    assert Ingest(redis_client).recover() == 0
    assert waiting(redis_client) == ["b"]
    assert scheduled(redis_client) == {"a", "b"}
    assert redis_client.get(lease_key("a")) == "first:0"


def test_recovery_schedules_an_inbox_nobody_schedules(redis_client):
    ingest = Ingest(redis_client)
    put(ingest, "a", "wamid.a1")
    wipe(redis_client, active=True)  # e.g. wiped by an older release's recovery
    assert ingest.recover() == 1 and ingest.recover() == 0
    assert waiting(redis_client) == ["a"]


async def test_a_second_process_starting_mid_turn_does_not_answer_again(redis_client):
    put(Ingest(redis_client), "a", "wamid.a1")
    turns = Turns()
    first = WorkerPool(Ingest(redis_client, lease_seconds=LEASE), turns.of("first"), size=2, poll_seconds=0.02)
    second = WorkerPool(Ingest(redis_client, lease_seconds=LEASE), turns.of("second"), size=2, poll_seconds=0.02)
    await first.start()
    try:
        assert await until(lambda: turns.handled)
        await second.start()  # a rolling restart or a replica: boots, recovers, polls
        assert await until(lambda: second.running == 2)
        # Several lease periods: the first keeps renewing, the second's periodic recovery runs.
        await asyncio.sleep(3 * LEASE)
        assert redis_client.get(lease_key("a")).startswith(first.owner)
        turns.finish.set()
        assert await until(lambda: not redis_client.exists(lease_key("a")))
        await asyncio.sleep(LEASE)  # room for a wrong second turn to show up
    finally:
        await first.stop()
        await second.stop()
    assert turns.handled == [("first", "wamid.a1")]
    assert Ingest(redis_client).state("wamid.a1") == "d"


async def test_a_dead_process_is_taken_over_once_its_lease_expires(redis_client):
    put(Ingest(redis_client), "a", "wamid.a1")
    put(Ingest(redis_client), "a", "wamid.a2")
    turns = Turns()
    first = WorkerPool(Ingest(redis_client, lease_seconds=LEASE), turns.of("first"), size=1,
                       poll_seconds=0.02, already_handled=not_in_tracker)
    second = WorkerPool(Ingest(redis_client, lease_seconds=LEASE), turns.of("second"), size=1,
                        poll_seconds=0.02, already_handled=not_in_tracker)
    await first.start()
    try:
        assert await until(lambda: turns.handled)
        # Started once the first holds the conversation: on a busy machine the second could
        # otherwise poll first and take it.
        await second.start()
        assert turns.handled == [("first", "wamid.a1")]
        await first.stop()  # dies mid-turn: no completion, the lease is no longer renewed
        turns.finish.set()
        assert await until(lambda: len(turns.handled) == 3)
        await asyncio.sleep(LEASE)
    finally:
        await second.stop()
    assert turns.handled == [("first", "wamid.a1"), ("second", "wamid.a1"), ("second", "wamid.a2")]
    assert Ingest(redis_client).pending("a") == 0


async def test_a_worker_that_finds_its_lease_gone_stops_the_turn_and_touches_nothing(redis_client):
    # E.g. its event loop was blocked past the TTL and another process took the conversation.
    put(Ingest(redis_client), "a", "wamid.a1")
    stopped = []

    async def handle(item):
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopped.append(item.wamid)
            raise

    pool = WorkerPool(Ingest(redis_client, lease_seconds=LEASE), handle, size=1, poll_seconds=0.02)
    await pool.start()
    try:
        assert await until(lambda: redis_client.exists(lease_key("a")))
        redis_client.set(lease_key("a"), "other-process:0")
        assert await until(lambda: stopped)
    finally:
        await pool.stop()
    assert stopped == ["wamid.a1"]
    assert redis_client.get(lease_key("a")) == "other-process:0"
    assert Ingest(redis_client).pending("a") == 1 and Ingest(redis_client).state("wamid.a1") == "s"
