"""Poison input: items that cannot be decoded, and messages whose handling keeps failing."""
from __future__ import annotations

import asyncio
import json

import redis as redis_lib

from connector.inbox.pool import WorkerPool
from connector.inbox.queue import Ingest, active_key, attempts_key, inbox_key, lease_key, ready_key, shard_of
from connector.webhook.inbound import parse_webhook

from tests.connector.conftest import text_webhook
from tests.connector.inbox.support import put, run_pool_until, scheduled, until


def schedule_raw(redis_client, conv, *items):
    """Items as some other writer (an older release, a hand edit, a corrupted restore) left them."""
    redis_client.rpush(inbox_key(conv), *items)
    if redis_client.sadd(active_key(shard_of(conv)), conv):
        redis_client.rpush(ready_key(shard_of(conv)), conv)


class Recorder:
    def __init__(self, fail=()):
        self.fail = set(fail)
        self.tries: list[str] = []
        self.handled: list[str] = []
        self.dead: list[tuple] = []

    async def handle(self, item):
        self.tries.append(item.wamid)
        if item.wamid in self.fail:
            raise RuntimeError(f"cannot handle {item.wamid}")
        self.handled.append(item.wamid)

    def on_dead_letter(self, conv, wamid, raw, reason):
        self.dead.append((conv, wamid, raw, reason))


async def test_an_item_redis_cjson_rejects_is_handled_once_and_does_not_block_the_customer(redis_client):
    # Valid JSON for Python, but Redis's cjson refuses the lone surrogate escape: the old
    # completion script swallowed the decode error, never removed the head and spun on it.
    bad = json.dumps({"conv": "a", "wamid": "wamid.bad", "envelope": {"message": {"text": {"body": "\ud800"}}}})
    assert "\\ud800" in bad
    schedule_raw(redis_client, "a", bad)
    ingest = Ingest(redis_client)
    put(ingest, "a", "wamid.good")
    seen = Recorder()
    pool = WorkerPool(ingest, seen.handle, size=1, poll_seconds=0.02)
    await run_pool_until(pool, lambda: "wamid.good" in seen.handled, settle=0.05)
    assert seen.tries == ["wamid.bad", "wamid.good"]
    assert ingest.pending("a") == 0 and ingest.state("wamid.bad") == "d"


async def test_items_python_cannot_decode_are_dead_lettered_at_once(redis_client):
    schedule_raw(redis_client, "a", b"not json", b"\xff\xfe{\"conv\": \"a\"}", b"[]")
    ingest = Ingest(redis_client)
    put(ingest, "a", "wamid.good")
    seen = Recorder()
    pool = WorkerPool(ingest, seen.handle, size=1, poll_seconds=0.02, on_dead_letter=seen.on_dead_letter)
    await run_pool_until(pool, lambda: seen.handled)
    assert seen.handled == ["wamid.good"]
    assert [d[2] for d in seen.dead] == ["not json", "\\xff\\xfe{\"conv\": \"a\"}", "[]"]
    assert all(d[0] == "a" and d[1] == "" and "undecodable" in d[3] for d in seen.dead)
    dead = ingest.dead()
    assert [d["raw"] for d in dead] == ["[]", "\\xff\\xfe{\"conv\": \"a\"}", "not json"]  # newest first
    assert {d["attempts"] for d in dead} == {0} and all(d["at"] for d in dead)
    assert ingest.pending("a") == 0 and "a" not in scheduled(redis_client)


def test_a_webhook_text_with_a_lone_surrogate_escape_is_queued(redis_client):
    # A text cut inside an emoji: json.loads gives a lone surrogate, which cannot be UTF-8
    # encoded; the intake raised and Meta would redeliver the webhook for a week.
    body = json.dumps(text_webhook("34600", "wamid.cut", "x")).replace('"x"', '"hola \\ud83d"')
    message = parse_webhook(json.loads(body)).messages[0]
    ingest = Ingest(redis_client)
    assert ingest.enqueue("34600", message.wamid, message.envelope)
    assert ingest.head("34600").envelope["message"]["text"]["body"] == "hola \ud83d"


async def test_a_message_whose_handler_keeps_failing_is_dead_lettered_after_three_attempts(redis_client):
    ingest = Ingest(redis_client)
    put(ingest, "a", "wamid.bad")
    put(ingest, "a", "wamid.good")
    seen = Recorder(fail={"wamid.bad"})
    pool = WorkerPool(ingest, seen.handle, size=2, poll_seconds=0.02, on_dead_letter=seen.on_dead_letter)
    await run_pool_until(pool, lambda: seen.handled, settle=0.05)
    assert seen.tries == ["wamid.bad"] * 3 + ["wamid.good"]
    [(conv, wamid, raw, reason)] = seen.dead
    assert (conv, wamid) == ("a", "wamid.bad") and "RuntimeError" in reason
    assert json.loads(raw)["wamid"] == "wamid.bad"
    [entry] = ingest.dead()
    assert entry["attempts"] == 3 and entry["wamid"] == "wamid.bad" and entry["conv"] == "a"
    assert not redis_client.exists(attempts_key("a", "wamid.bad")) and ingest.pending("a") == 0


async def test_a_message_that_kills_its_process_three_times_is_dead_lettered(redis_client):
    ingest = Ingest(redis_client, lease_seconds=0.3)
    put(ingest, "a", "wamid.deadly")
    seen = Recorder()
    entered = asyncio.Event()

    async def dies(item):
        entered.set()
        await asyncio.Event().wait()  # the process is killed during this turn

    async def not_in_tracker(conv, wamid):
        return False

    for _ in range(3):
        entered.clear()
        doomed = WorkerPool(ingest, dies, size=1, poll_seconds=0.02, already_handled=not_in_tracker)
        await doomed.start()
        await asyncio.wait_for(entered.wait(), 5)
        await doomed.stop()
        assert await until(lambda: not redis_client.exists(lease_key("a")))
    assert ingest.attempts("a", "wamid.deadly") == 3
    pool = WorkerPool(ingest, seen.handle, size=1, poll_seconds=0.02,
                      already_handled=not_in_tracker, on_dead_letter=seen.on_dead_letter)
    await run_pool_until(pool, lambda: seen.dead)
    assert seen.tries == []
    assert seen.dead and "interrupted" in seen.dead[0][3]
    assert ingest.dead()[0]["attempts"] == 3


async def test_redis_errors_in_a_turn_are_not_attempts(redis_client):
    ingest = Ingest(redis_client)
    put(ingest, "a", "wamid.a1")
    outages = []

    async def handle(item):
        if len(outages) < 4:
            outages.append(item.wamid)
            raise redis_lib.exceptions.ConnectionError("Connection reset by peer")

    done = []
    pool = WorkerPool(ingest, handle, size=1, poll_seconds=0.01, on_dead_letter=lambda *a: done.append(a))
    await run_pool_until(pool, lambda: ingest.pending("a") == 0, steps=600)
    assert len(outages) == 4 and not done and ingest.state("wamid.a1") == "d"
    assert ingest.dead() == []
