"""/metrics of the connector: the channel's endpoint in a real Sanic server, the counters of the
webhook, the sender and the workers, and the backlog gauges read from Redis."""
from __future__ import annotations

import pytest

from core.clock import FixedClock
from core.metrics import TOKEN_ENV, scrape
from connector.cloudapi import errors, messages
from connector.cloudapi.sender import CloudSender, RetryPolicy
from connector.inbox.metrics import BacklogCollector
from connector.inbox.queue import Ingest
from connector.policy.window import ServiceWindow
from tests.connector.channel.test_input import _http_exchange as http_exchange
from tests.connector.conftest import serve, signed, text_webhook, wait_for
from tests.connector.fake_graph import CONFIG, NOON, FakeGraph, Sleeper, graph_error
from tests.prometheus import samples, value

CUSTOMER = "34600000001"


def this_process() -> str:
    return scrape(None, env={}).body.decode()


async def test_a_webhook_accepted_or_refused_moves_its_counter(channel, recorder, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    async with serve(channel, recorder) as client:
        before = (await client.get("/metrics")).text
        body, headers = signed(text_webhook(CUSTOMER, "wamid.M1", "hola"))
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200  # Meta's retry
        assert (await client.post("/webhook", content=body, headers={**headers, "X-Hub-Signature-256": "sha256=00"})
                ).status_code == 403
        assert (await client.post("/webhook", content=body)).status_code == 401
        # Refused from its Content-Length, before the handler ran.
        head = (b"POST /webhooks/whatsapp/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % (60 * 1024 * 1024))
        assert (await http_exchange(client, head)).startswith(b"HTTP/1.1 413")
        # The turn is observed once the handler is done with the message.
        await wait_for(lambda: value(this_process(), "whatsapp_turn_seconds_count", outcome="answered")
                       > value(before, "whatsapp_turn_seconds_count", outcome="answered"))
        answer = await client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = answer.text
    assert samples(after)  # the Prometheus text format, as prometheus_client parses it

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("whatsapp_webhooks_total", code="200") == 2
    assert moved("whatsapp_webhooks_total", code="403") == 1
    assert moved("whatsapp_webhooks_total", code="401") == 1
    assert moved("whatsapp_webhooks_total", code="413") == 1
    assert moved("whatsapp_inbound_messages_total", outcome="queued") == 1
    assert moved("whatsapp_inbound_messages_total", outcome="duplicate") == 1
    assert moved("whatsapp_turn_seconds_count", outcome="answered") == 1
    # The gauges read from Redis are on the same endpoint, and no label names a customer.
    assert ("whatsapp_inbox_messages", frozenset()) in samples(after)
    assert ("handoff_waiting", frozenset()) in samples(after)
    assert CUSTOMER not in after and "hola" not in after


async def test_the_channel_endpoint_wants_the_token_when_one_is_set(channel, recorder, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "scrape-token-1")
    async with serve(channel, recorder) as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 401
        allowed = await client.get("/metrics", headers={"Authorization": "Bearer scrape-token-1"})
    assert allowed.status_code == 200 and samples(allowed.text)


async def test_a_send_success_failure_and_retry_move_their_counters(redis_client):
    clock = FixedClock(NOON)
    ServiceWindow(redis_client, clock).record_inbound(CUSTOMER)
    graph = FakeGraph("ok", graph_error(131000, status=500), "ok", graph_error(100, "Invalid parameter"))
    sender = CloudSender(CONFIG, redis_client, clock, graph.client(), sleep=Sleeper(clock), rng=lambda: 1.0,
                         retry=RetryPolicy(attempts=3))
    body = messages.text_bodies(CUSTOMER, "Hola")[0]
    before = this_process()
    await sender.send(CUSTOMER, body)
    await sender.send(CUSTOMER, body)  # a 500, then accepted on the retry
    with pytest.raises(errors.PermanentError):
        await sender.send(CUSTOMER, body)
    after = this_process()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("whatsapp_sends_total", outcome="sent") == 2
    assert moved("whatsapp_sends_total", outcome="permanent") == 1
    assert moved("whatsapp_send_retries_total", error="ServerError") == 1
    assert moved("whatsapp_graph_request_seconds_count") == 4


def test_the_backlog_gauges_reflect_a_queued_message(redis_client):
    clock = FixedClock(NOON)
    ingest = Ingest(redis_client, clock=clock)
    collector = BacklogCollector(ingest, clock)
    empty = scrape(None, [collector], env={}).body.decode()
    assert value(empty, "whatsapp_inbox_messages") == 0 and value(empty, "whatsapp_inbox_oldest_age_seconds") == 0
    ingest.enqueue(CUSTOMER, "wamid.Q1", {"message": {"id": "wamid.Q1"}})
    clock.advance(seconds=40)
    ingest.enqueue("34600000002", "wamid.Q2", {"message": {"id": "wamid.Q2"}})
    clock.advance(seconds=5)
    text = scrape(None, [collector], env={}).body.decode()
    assert value(text, "whatsapp_inbox_messages") == 2
    assert value(text, "whatsapp_inbox_conversations_ready") == 2
    assert value(text, "whatsapp_inbox_oldest_age_seconds") == 45
    # Claimed by a worker: no longer waiting for one, still unanswered, still as old.
    assert ingest.claim("worker-1") == CUSTOMER
    text = scrape(None, [collector], env={}).body.decode()
    assert value(text, "whatsapp_inbox_conversations_ready") == 1
    assert value(text, "whatsapp_inbox_messages") == 2
    assert value(text, "whatsapp_inbox_oldest_age_seconds") == 45


def test_redis_down_leaves_out_its_gauges_not_the_scrape():
    from core.redis_conn import free_port, get_redis

    down = get_redis(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    answer = scrape(None, [BacklogCollector(Ingest(down))], env={})
    assert answer.status == 200
    assert ("whatsapp_inbox_messages", frozenset()) not in samples(answer.body.decode())
