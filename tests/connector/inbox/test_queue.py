import asyncio
import datetime as dt
import json


from core.clock import FixedClock
from connector.policy.window import ServiceWindow
from connector.webhook.identity import Identity
from connector.webhook.inbound import parse_webhook
from connector.inbox.queue import ACTIVE, READY, Ingest, inbox_key, seen_key
from connector.webhook.intake import Intake
from connector.inbox.pool import WorkerPool

from tests.connector.conftest import text_webhook


def message(wa_id="34600", wamid="wamid.1", body="hola", ts=1750000000):
    return parse_webhook(text_webhook(wa_id, wamid, body, ts)).messages[0]



async def run_pool_until(pool, done, steps: int = 100, settle: float = 0.0) -> None:
    """Run the workers until done() holds (or ~2 s per 100 steps), then stop them."""
    await pool.start()
    try:
        for _ in range(steps):
            if done():
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(settle)  # room for a wrong extra turn to show up
    finally:
        await pool.stop()

def test_enqueue_dedupes_and_schedules_once(redis_client):
    ingest = Ingest(redis_client)
    assert ingest.enqueue("34600", message(wamid="wamid.1"))
    assert not ingest.enqueue("34600", message(wamid="wamid.1"))
    assert ingest.enqueue("34600", message(wamid="wamid.2"))
    assert redis_client.lrange(READY, 0, -1) == ["34600"]
    assert redis_client.llen(inbox_key("34600")) == 2
    ttl = redis_client.ttl(seen_key("wamid.1"))
    assert 7 * 86400 < ttl <= 8 * 86400


def test_claim_complete_release(redis_client):
    ingest = Ingest(redis_client)
    ingest.enqueue("a", message("a", "wamid.a1"))
    ingest.enqueue("a", message("a", "wamid.a2"))
    assert ingest.claim() == "a" and ingest.claim() is None
    ingest.enqueue("a", message("a", "wamid.a3"))  # held: must not be scheduled twice
    assert redis_client.llen(READY) == 0
    assert ingest.head("a").wamid == "wamid.a1"
    assert ingest.complete("a", "wamid.a1") is True  # more to do: back in line
    assert ingest.claim() == "a"
    assert ingest.complete("a", "wamid.a2") and ingest.claim() == "a"
    assert ingest.complete("a", "wamid.a3") is False
    assert not redis_client.sismember(ACTIVE, "a") and ingest.state("wamid.a3") == "d"
    ingest.enqueue("a", message("a", "wamid.a4"))
    assert ingest.claim() == "a"


def test_releasing_an_empty_conversation(redis_client):
    ingest = Ingest(redis_client)
    redis_client.sadd(ACTIVE, "ghost")  # held, but its inbox is already empty
    assert ingest.head("ghost") is None
    assert ingest.complete("ghost", "") is False
    assert not redis_client.sismember(ACTIVE, "ghost") and not redis_client.exists(seen_key(""))


def test_concurrent_identical_deliveries_queue_one_item(redis_url, redis_client):
    from concurrent.futures import ThreadPoolExecutor

    from core.redis_conn import get_redis

    def deliver(_):
        return Ingest(get_redis(redis_url)).enqueue("34600", message(wamid="wamid.same"))

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(deliver, range(20)))
    assert results.count(True) == 1
    assert redis_client.llen(inbox_key("34600")) == 1 and redis_client.llen(READY) == 1


def test_restart_requeues_pending_and_does_not_repeat_done(redis_client):
    first = Ingest(redis_client)
    first.enqueue("a", message("a", "wamid.a1"))
    first.enqueue("b", message("b", "wamid.b1"))
    assert first.claim() == "a"
    first.complete("a", "wamid.a1")  # handled before the crash
    assert first.claim() == "b"       # taken, then the process died
    redis_client.delete(READY)        # and even the ready list is gone
    # "Restart": a new instance on the same Redis.
    second = Ingest(redis_client)
    assert not second.enqueue("a", message("a", "wamid.a1"))  # Meta's retry of a handled one
    assert second.recover() == 1
    assert second.claim() == "b" and second.head("b").wamid == "wamid.b1"
    assert second.claim() is None


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
    assert redis_client.llen(READY) == 0  # statuses are not bot turns
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
            ingest.enqueue(c, message(c, f"wamid.{c}.{n}", f"{n}"))
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
    assert redis_client.scard(ACTIVE) == 0


async def test_interrupted_turn_is_checked_against_the_tracker(redis_client):
    ingest = Ingest(redis_client)
    ingest.enqueue("a", message("a", "wamid.a1"))
    ingest.enqueue("a", message("a", "wamid.a2"))
    ingest.mark_started("wamid.a1")  # the previous process died in the middle of this turn
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
    ingest.enqueue("a", message("a", "wamid.bad"))
    ingest.enqueue("a", message("a", "wamid.good"))
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
    ingest.enqueue("a", message("a", "wamid.a1"))
    ingest.enqueue("a", message("a", "wamid.a2"))
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
