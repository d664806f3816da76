"""The worker: due sends go out once, each outcome is recorded, nothing is lost or sent twice."""
import datetime as dt

import httpx

from connector.cloudapi import errors
from connector.cloudapi.delivery import DeliveryLog
from connector.policy.tier import MessagingTier
from connector.outreach.store import DUE_KEY, DEFERRED, FAILED, REFUSED, SCHEDULED, SENT, UNKNOWN, SendStore
from connector.outreach.worker import LEASE, PAUSE_RECHECK, RETRY_DELAYS
from tests.connector.fake_graph import FakeGraph, graph_error

from connector.outreach.engine import Contact, Request

from .conftest import OPTED_IN, ORDER


async def test_a_due_send_goes_out_once_and_its_template_enters_the_conversation_history(order, make_worker, outreach, rasa, clock):
    (send,) = order().sends
    graph = FakeGraph()
    await make_worker(graph).drain()
    await make_worker(graph).drain()  # a second worker finds nothing to do
    (body,) = graph.accepted
    assert (body["to"], body["type"], body["template"]["name"]) == (OPTED_IN, "template", "order_confirmation")
    status = outreach.status(send.id)
    assert (status["state"], status["wamid"]) == (SENT, "wamid.TEST1")
    assert status["delivery"]["status"] == "accepted"
    (event,) = rasa.events[OPTED_IN]
    assert event["event"] == "bot" and event["text"] == send.text
    assert event["data"]["custom"] == {"type": "template", "template": send.body}
    assert event["metadata"]["send_id"] == send.id and "agent" not in event["metadata"]
    assert all(r.query.get("execute_side_effects") is None for r in rasa.posts())  # nothing re-sent


async def test_delivery_status_from_the_webhooks_shows_in_the_send(order, make_worker, outreach, redis_client, clock):
    (send,) = order().sends
    await make_worker().drain()
    wamid = outreach.status(send.id)["wamid"]
    read_at = int(clock.now().timestamp()) + 30
    DeliveryLog(redis_client, clock).record_status({"id": wamid, "status": "read", "timestamp": read_at})
    delivery = outreach.status(send.id)["delivery"]
    assert delivery["status"] == "read"
    assert delivery["times"]["read"] == dt.datetime.fromtimestamp(read_at, dt.timezone.utc).isoformat()


async def test_a_scheduled_send_survives_a_restart_and_goes_when_due(order, make_worker, outreach, clock):
    (send,) = order(send_at=clock.now() + dt.timedelta(hours=2)).sends
    graph = FakeGraph()
    await make_worker(graph).drain()
    assert graph.accepted == [] and outreach.status(send.id)["state"] == SCHEDULED
    clock.advance(hours=2)
    await make_worker(graph).drain()  # a new worker: only Redis remembers the send
    assert len(graph.accepted) == 1 and outreach.status(send.id)["state"] == SENT


async def test_a_send_whose_worker_died_while_sending_becomes_unknown_and_is_never_resent(order, make_worker, outreach, redis_client, clock):
    (send,) = order().sends
    store = SendStore(redis_client, clock)
    assert store.claim("crashed-worker", 10, LEASE) == [send.id]
    assert store.start(send.id, "crashed-worker")  # … and the process died during the POST
    graph = FakeGraph()
    clock.advance(seconds=LEASE.total_seconds() + 1)
    await make_worker(graph).drain()
    assert graph.requests == []
    status = outreach.status(send.id)
    assert status["state"] == UNKNOWN and "not sent again" in status["reason"]
    (failure,) = DeliveryLog(redis_client).failures(OPTED_IN)
    assert failure["kind"] == "unknown_outcome"


async def test_a_send_claimed_by_a_dead_worker_before_sending_goes_out_after_the_lease(order, make_worker, outreach, redis_client, clock):
    (send,) = order().sends
    SendStore(redis_client, clock).claim("crashed-worker", 10, LEASE)
    graph = FakeGraph()
    await make_worker(graph).drain()
    assert graph.requests == []  # the lease still holds
    clock.advance(seconds=LEASE.total_seconds() + 1)
    await make_worker(graph).drain()
    assert len(graph.accepted) == 1 and outreach.status(send.id)["state"] == SENT


class Gate:
    """The sender's business-initiated gate, as the lead's sender raises it: per contact, the
    next outcome (an error to raise; none left: sent). Meta is not asked."""

    def __init__(self, outcomes):
        self.outcomes = outcomes
        self.sent = []

    async def send(self, conversation_id, body):
        waiting = self.outcomes.get(conversation_id) or []
        if waiting:
            raise waiting.pop(0)
        self.sent.append(body)
        return f"wamid.GATE{len(self.sent)}"


async def test_a_refusal_at_send_time_is_final_and_a_deferral_waits(outreach, consent, make_worker, clock):
    opted_out, tier_full, paused = "5215512340011", "5215512340012", "5215512340013"
    for contact in (opted_out, tier_full, paused):
        consent.record(contact, "transactional", "opted_in", "web_form")
    refused, deferred, waiting = outreach.submit(Request(
        "order_confirmation", [Contact(c, ORDER) for c in (opted_out, tier_full, paused)], "k", "shop")).sends
    tier_frees = clock.now() + dt.timedelta(hours=5)
    worker = make_worker()
    worker.sender = Gate({
        opted_out: [errors.NoConsentError("transactional: the contact opted out", code="no_consent")],
        tier_full: [errors.TierLimitError("the tier's 250 contacts are reached", retry_at=tier_frees)],
        paused: [errors.MarketingPausedError("marketing is paused")] * 2})
    await worker.drain()
    assert outreach.status(refused.id)["state"] == REFUSED
    assert "opted out" in outreach.status(refused.id)["reason"]
    tier = outreach.status(deferred.id)
    assert (tier["state"], tier["due"]) == (DEFERRED, tier_frees.isoformat()) and "250" in tier["reason"]
    pause = outreach.status(waiting.id)
    assert pause["state"] == DEFERRED and pause["due"] == (clock.now() + PAUSE_RECHECK).isoformat()

    clock.advance(seconds=PAUSE_RECHECK.total_seconds())  # still paused: re-checked, kept
    await worker.drain()
    assert outreach.status(waiting.id)["state"] == DEFERRED
    clock.advance(hours=5)  # resumed, and the tier has room again
    await worker.drain()
    assert {outreach.status(i)["state"] for i in (deferred.id, waiting.id)} == {SENT}
    assert len(worker.sender.sent) == 2 and outreach.status(refused.id)["state"] == REFUSED


async def test_through_the_real_gate_an_opt_out_after_scheduling_is_refused_and_a_full_tier_defers(
        outreach, consent, make_worker, redis_client, clock):
    later, full = "5215512340021", "5215512340022"
    for contact in (later, full):
        consent.record(contact, "transactional", "opted_in", "web_form")
    refused, deferred = outreach.submit(Request(
        "order_confirmation", [Contact(c, ORDER) for c in (later, full)], "gate", "shop")).sends
    clock.advance(minutes=1)
    consent.record(later, "transactional", "opted_out", "message")  # STOP before the send is due
    tier = MessagingTier(redis_client, clock)
    tier.set_tier("TIER_250", source="test")
    for n in range(250):
        tier.reserve(f"5215599{n:06d}")
    graph = FakeGraph()
    await make_worker(graph).drain()
    assert graph.requests == []
    assert outreach.status(refused.id)["state"] == REFUSED and "opted out" in outreach.status(refused.id)["reason"]
    waiting = outreach.status(deferred.id)
    assert waiting["state"] == DEFERRED and "unique contacts in 24 h" in waiting["reason"]
    clock.advance(hours=24)  # the oldest reached contacts leave the moving 24 h
    await make_worker(graph).drain()
    assert outreach.status(deferred.id)["state"] == SENT and len(graph.accepted) == 1
    assert outreach.status(refused.id)["state"] == REFUSED


async def test_retryable_failures_are_retried_a_bounded_number_of_times_then_failed(order, make_worker, outreach, clock):
    (send,) = order().sends
    graph = FakeGraph(*[graph_error(131000, "try later", status=500)] * 20)
    worker = make_worker(graph)
    for delay in RETRY_DELAYS:
        await worker.drain()
        status = outreach.status(send.id)
        assert status["state"] == SCHEDULED and "retrying" in status["reason"]
        clock.advance(seconds=delay.total_seconds())
    await worker.drain()
    status = outreach.status(send.id)
    assert status["state"] == FAILED and "gave up after 4 tries" in status["reason"]
    assert graph.accepted == []


async def test_meta_refusing_the_template_fails_the_send_with_its_reason(order, make_worker, outreach):
    (send,) = order().sends
    await make_worker(FakeGraph(graph_error(132001, "Template name does not exist in the translation"))).drain()
    status = outreach.status(send.id)
    assert status["state"] == FAILED and "132001" in status["reason"]


async def test_an_unknown_outcome_is_recorded_and_not_retried(order, make_worker, outreach, clock):
    (send,) = order().sends
    graph = FakeGraph(httpx.ReadTimeout("no answer"))
    worker = make_worker(graph)
    await worker.drain()
    clock.advance(hours=1)
    await worker.drain()
    assert outreach.status(send.id)["state"] == UNKNOWN and len(graph.requests) == 1


async def test_sends_go_out_concurrently_but_bounded(outreach, consent, make_worker, redis_client):
    contacts = [f"52155123401{n:02d}" for n in range(5)]
    for contact in contacts:
        consent.record(contact, "transactional", "opted_in", "web_form")
    outreach.submit(Request("order_confirmation", [Contact(c, ORDER) for c in contacts], "k", "shop"))
    graph = FakeGraph()
    worker = make_worker(graph, concurrency=2)
    assert worker.start_due() == 2 and worker.start_due() == 0  # two in flight, the rest wait
    await worker.drain()
    assert len(graph.accepted) == 5 and redis_client.zcard(DUE_KEY) == 0


async def test_a_send_that_outlived_its_lease_is_still_recorded_as_sent_with_its_wamid(order, make_worker, outreach, redis_client, clock):
    (send,) = order().sends

    class Stalled:
        """Meta answers only after the lease ran out and another worker recovered the send."""

        async def send(self, conversation_id, body):
            clock.advance(seconds=LEASE.total_seconds() + 1)
            assert SendStore(redis_client, clock).recover() == [send.id]
            return "wamid.LATE"

    worker = make_worker()
    worker.sender = Stalled()
    await worker.drain()
    status = outreach.status(send.id)
    assert (status["state"], status["wamid"]) == (SENT, "wamid.LATE")
