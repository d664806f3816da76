import asyncio
import datetime as dt
import json


from core.clock import FixedClock
from connector.policy.window import ServiceWindow
from connector.webhook.identity import Identity
from connector.webhook.inbound import parse_webhook
from connector.inbox.queue import Ingest, active_key, inbox_key, lease_key, seen_key, shard_of
from connector.webhook.intake import Intake
from connector.inbox.pool import WorkerPool

from tests.connector.conftest import text_webhook
from tests.connector.inbox.support import put, run_pool_until, scheduled, waiting, wipe


def test_enqueue_dedupes_and_schedules_once(redis_client):
    ingest = Ingest(redis_client)
    assert put(ingest, "34600", "wamid.1")
    assert not put(ingest, "34600", "wamid.1")
    assert put(ingest, "34600", "wamid.2")
    assert waiting(redis_client) == ["34600"]
    assert redis_client.llen(inbox_key("34600")) == 2
    ttl = redis_client.ttl(seen_key("34600", "wamid.1"))
    assert 7 * 86400 < ttl <= 8 * 86400


def test_claim_complete_release(redis_client):
    ingest = Ingest(redis_client)
    put(ingest, "a", "wamid.a1")
    put(ingest, "a", "wamid.a2")
    assert ingest.claim("w1") == "a" and ingest.claim("w2") is None
    assert redis_client.get(lease_key("a")) == "w1"
    put(ingest, "a", "wamid.a3")  # held: must not be scheduled twice
    assert waiting(redis_client) == []
    item = ingest.head("a")
    assert item.wamid == "wamid.a1"
    assert ingest.complete("a", "w1", item) == 1  # more to do: back in line
    assert not redis_client.exists(lease_key("a"))
    assert ingest.claim("w2") == "a"
    assert ingest.complete("a", "w2", ingest.head("a")) == 1 and ingest.claim("w1") == "a"
    item = ingest.head("a")
    assert ingest.complete("a", "w1", item) == 0
    assert "a" not in scheduled(redis_client) and ingest.state("wamid.a3") == "d"
    put(ingest, "a", "wamid.a4")
    assert ingest.claim("w1") == "a"


def test_only_the_lease_owner_can_let_go(redis_client):
    ingest = Ingest(redis_client)
    put(ingest, "a", "wamid.a1")
    assert ingest.claim("w1") == "a"
    item = ingest.head("a")
    assert ingest.complete("a", "w2", item) == -1 and ingest.give_back("a", "w2") == -1
    assert ingest.renew("a", "w1") and not ingest.renew("a", "w2")
    assert ingest.pending("a") == 1 and redis_client.get(lease_key("a")) == "w1"
    assert ingest.complete("a", "w1", item) == 0 and ingest.pending("a") == 0


def test_releasing_an_empty_conversation(redis_client):
    ingest = Ingest(redis_client)
    redis_client.sadd(active_key(shard_of("ghost")), "ghost")  # held, but its inbox is already empty
    redis_client.set(lease_key("ghost"), "w1")
    assert ingest.head("ghost") is None
    assert ingest.give_back("ghost", "w1") == 0
    assert "ghost" not in scheduled(redis_client) and not redis_client.exists(lease_key("ghost"))


def test_concurrent_identical_deliveries_queue_one_item(redis_url, redis_client):
    from concurrent.futures import ThreadPoolExecutor

    from core.redis_conn import get_redis

    def deliver(_):
        return put(Ingest(get_redis(redis_url)), "34600", "wamid.same")

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(deliver, range(20)))
    assert results.count(True) == 1
    assert redis_client.llen(inbox_key("34600")) == 1 and waiting(redis_client) == ["34600"]


def test_restart_requeues_pending_and_does_not_repeat_done(redis_client):
    first = Ingest(redis_client)
    put(first, "a", "wamid.a1")
    put(first, "b", "wamid.b1")
    assert first.claim("old:0") == "a"
    first.complete("a", "old:0", first.head("a"))  # handled before the crash
    assert first.claim("old:0") == "b"              # taken, then the process died
    wipe(redis_client)                              # and even the ready lists are gone
    # "Restart": a new instance on the same Redis. The dead worker's lease still runs.
    second = Ingest(redis_client)
    assert not put(second, "a", "wamid.a1")  # Meta's retry of a handled one
    assert second.recover() == 0 and second.claim("new:0") is None
    redis_client.delete(lease_key("b"))      # what its TTL does
    assert second.recover() == 1
    assert second.claim("new:0") == "b" and second.head("b").wamid == "wamid.b1"
    assert second.claim("new:0") is None


def test_statuses_are_recorded_and_131047_closes_the_window(redis_client):
    clock = FixedClock(dt.datetime(2025, 6, 15, 12, tzinfo=dt.timezone.utc))
    window = ServiceWindow(redis_client, clock)
    identity = Identity(redis_client)
    conv = identity.resolve(parse_webhook(text_webhook("34600", "wamid.in", "hola")).messages[0].sender)
    window.record_inbound(conv, clock.now() - dt.timedelta(hours=1))
    assert window.status(conv).open

    class Log:
        def __init__(self):
            self.seen = []

        def record_status(self, status):
            self.seen.append(status)

    log = Log()
    intake = Intake(Ingest(redis_client), identity, log, window)
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"},
        "statuses": [
            {"id": "wamid.o1", "status": "delivered", "timestamp": "1750000000", "recipient_id": "34600"},
            {"id": "wamid.o2", "status": "failed", "timestamp": "1750000001", "recipient_id": "34600",
             "errors": [{"code": 131047, "title": "Re-engagement message"}]},
        ]}}]}]}
    assert intake.accept(parse_webhook(payload)) == 0
    assert [s.status for s in log.seen] == ["delivered", "failed"]
    assert waiting(redis_client) == []  # statuses are not bot turns
    status = window.status(conv)
    assert not status.open and status.reason == "131047"


def test_number_change_is_applied_before_later_messages(redis_client, examples):
    intake = Intake(Ingest(redis_client), Identity(redis_client))
    intake.accept(parse_webhook(text_webhook("16505551234", "wamid.old", "hola")))
    intake.accept(parse_webhook(examples["System Message"]))
    intake.accept(parse_webhook(text_webhook("12195555358", "wamid.new", "sigo aquí")))
    items = [json.loads(i)["wamid"] for i in redis_client.lrange(inbox_key("16505551234"), 0, -1)]
    assert items == ["wamid.old", "wamid.HBgLMTk4MzU1NTE5NzQVAgASGAoxMTgyMDg2MjY3AA==", "wamid.new"]
    assert not redis_client.exists(inbox_key("12195555358"))


async def test_order_per_customer_with_several_workers(redis_client):
    ingest = Ingest(redis_client)
    customers = [f"3460000{i}" for i in range(5)]
    for n in range(6):
        for c in customers:
            put(ingest, c, f"wamid.{c}.{n}", f"{n}")
    handled: list[tuple[str, int]] = []
    busy: set[str] = set()
    overlap = []

    async def handle(item):
        if item.conv in busy:
            overlap.append(item.conv)
        busy.add(item.conv)
        await asyncio.sleep(0.005)
        handled.append((item.conv, int(item.envelope["message"]["text"]["body"])))
        busy.discard(item.conv)

    pool = WorkerPool(ingest, handle, size=4, poll_seconds=0.02)
    await run_pool_until(pool, lambda: len(handled) == 30, steps=300)
    assert not overlap
    for c in customers:
        assert [n for conv, n in handled if conv == c] == list(range(6))
    assert scheduled(redis_client) == set()


async def test_interrupted_turn_is_checked_against_the_tracker(redis_client):
    ingest = Ingest(redis_client)
    put(ingest, "a", "wamid.a1")
    put(ingest, "a", "wamid.a2")
    ingest.mark_started("a", "wamid.a1")  # the previous process died in the middle of this turn
    handled = []

    async def handle(item):
        handled.append(item.wamid)

    async def in_tracker(conv, wamid):
        return wamid == "wamid.a1"

    pool = WorkerPool(ingest, handle, size=2, poll_seconds=0.02, already_handled=in_tracker)
    await run_pool_until(pool, lambda: handled, settle=0.05)
    assert handled == ["wamid.a2"]


async def test_a_failing_turn_does_not_block_the_customer(redis_client):
    ingest = Ingest(redis_client)
    put(ingest, "a", "wamid.bad")
    put(ingest, "a", "wamid.good")
    handled = []

    async def handle(item):
        if item.wamid == "wamid.bad":
            raise RuntimeError("boom")
        handled.append(item.wamid)

    pool = WorkerPool(ingest, handle, size=1, poll_seconds=0.02)
    await run_pool_until(pool, lambda: handled)
    assert handled == ["wamid.good"]


def test_a_late_131047_status_does_not_close_a_window_the_customer_reopened(redis_client):
    clock = FixedClock(dt.datetime(2025, 6, 16, 12, tzinfo=dt.timezone.utc))
    window = ServiceWindow(redis_client, clock)
    identity = Identity(redis_client)
    conv = identity.resolve(parse_webhook(text_webhook("34600", "wamid.in", "hola")).messages[0].sender)
    # The customer wrote at 11:00; the refused message was failed by Meta at 10:00 and its
    # status webhook arrives only now.
    window.record_inbound(conv, clock.now() - dt.timedelta(hours=1))
    failed_at = int((clock.now() - dt.timedelta(hours=2)).timestamp())
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"},
        "statuses": [{"id": "wamid.o2", "status": "failed", "timestamp": str(failed_at), "recipient_id": "34600",
                      "errors": [{"code": 131047, "title": "Re-engagement message"}]}]}}]}]}
    Intake(Ingest(redis_client), identity, None, window).accept(parse_webhook(payload))
    assert window.status(conv).open


async def test_a_turn_cut_short_by_a_redis_outage_is_retried_not_dropped(redis_client):
    # A Redis connection error inside the turn (window, handoff state, Rasa's tracker store)
    # says nothing about the message; dropping it like a poison message loses the question.
    import redis as redis_lib

    ingest = Ingest(redis_client)
    put(ingest, "a", "wamid.a1")
    put(ingest, "a", "wamid.a2")
    attempts: list[str] = []
    handled: list[str] = []

    async def handle(item):
        attempts.append(item.wamid)
        if attempts.count("wamid.a1") == 1 and item.wamid == "wamid.a1":
            raise redis_lib.exceptions.ConnectionError("Connection reset by peer")
        handled.append(item.wamid)

    async def in_tracker(conv, wamid):
        return False  # Rasa never got to log it

    pool = WorkerPool(ingest, handle, size=1, poll_seconds=0.02, already_handled=in_tracker)
    await run_pool_until(pool, lambda: len(handled) == 2, steps=300)
    assert handled == ["wamid.a1", "wamid.a2"]


def test_a_redelivered_old_message_does_not_send_replies_back_to_the_old_number(redis_client, examples):
    # Meta redelivers webhooks it got no 200 for (e.g. during a Redis blip), possibly after the
    # customer's number change went through; a duplicate must not move the address back.
    identity = Identity(redis_client)
    intake = Intake(Ingest(redis_client), identity)
    old_message = parse_webhook(text_webhook("16505551234", "wamid.old", "hola"))
    intake.accept(old_message)
    intake.accept(parse_webhook(examples["System Message"]))
    assert identity.recipient("16505551234").wa_id == "12195555358"
    assert intake.accept(old_message) == 0
    assert identity.recipient("16505551234").wa_id == "12195555358"
