"""The real blueprint in a real Sanic server, as Rasa mounts it, against the test Redis."""
import asyncio
import json
import time
import types

import httpx
import pytest
import redis

from core.redis_conn import free_port
from connector.inbox.queue import INBOX_PATTERN, Ingest, inbox_key
from connector.channel.input import WhatsAppInput
from connector.webhook.endpoint import MAX_BODY_BYTES
from core.channels import CUSTOMER_MESSAGES

from tests.connector.inbox.support import waiting, wipe
from tests.connector.conftest import VERIFY, make_channel, serve, signed, text_webhook, wait_for, with_message
from tests.connector.webhook.test_inbound import EXPECTED, GROUP_EVENTS
from tests.connector.fake_graph import FakeGraph


async def test_health(channel, recorder):
    async with serve(channel, recorder) as client:
        r = await client.get("/health")
        assert r.status_code == 200 and r.json()["status"] == "ok"


@pytest.mark.parametrize("params,status", [
    ({"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}, 200),
    ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"}, 403),
    ({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"}, 403),
    ({"hub.challenge": "1"}, 403),
])
async def test_subscription_verification(channel, recorder, params, status):
    async with serve(channel, recorder) as client:
        r = await client.get("/webhook", params=params)
    assert r.status_code == status
    if status == 200:
        assert r.text == "1158201444" and r.headers["content-type"].startswith("text/plain")


async def test_signature_missing_wrong_right(channel, recorder, redis_client):
    payload = text_webhook("34600", "wamid.sig", "hola")
    body, headers = signed(payload)
    async with serve(channel, recorder) as client:
        r = await client.post("/webhook", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 401
        bad = signed(payload, secret="not-the-secret")[1]
        r = await client.post("/webhook", content=body, headers=bad)
        assert r.status_code == 403
        sha1 = {"X-Hub-Signature": "sha1=" + "0" * 40, "content-type": "application/json"}
        assert (await client.post("/webhook", content=body, headers=sha1)).status_code == 401
        assert not redis_client.exists(inbox_key("34600")) and not recorder.messages
        tampered = body.replace(b"hola", b"HOLA")
        assert (await client.post("/webhook", content=tampered, headers=headers)).status_code == 403
        r = await client.post("/webhook", content=body, headers=headers)
        assert r.status_code == 200
        await wait_for(lambda: recorder.messages)
    assert recorder.messages[0].text == "hola"


async def test_largest_body_bad_json_and_not_a_webhook(channel, recorder):
    # Over the limit is refused without reading (tests below, over a plain socket: a client
    # that insists on sending the whole body sees the connection closed under it).
    async with serve(channel, recorder) as client:
        start = b'{"object": "page", "pad": "'
        largest = start + b"x" * (MAX_BODY_BYTES - len(start) - 2) + b'"}'
        r = await client.post("/webhook", content=largest, headers=signed(largest)[1])
        assert r.status_code == 200
        r = await client.post("/webhook", content=b"{not json", headers=signed(b"{not json")[1])
        assert r.status_code == 400 and "invalid JSON" in r.text
        r = await client.post("/webhook", content=b"[1]", headers=signed(b"[1]")[1])
        assert r.status_code == 400 and "invalid payload" in r.text


async def test_other_objects_and_fields_are_acknowledged(channel, recorder, redis_client, examples):
    async with serve(channel, recorder) as client:
        for payload in ({"object": "page", "entry": [{"id": "1", "messaging": []}]},
                        *(examples[name] for name in GROUP_EVENTS)):
            body, headers = signed(payload)
            r = await client.post("/webhook", content=body, headers=headers)
            assert r.status_code == 200
    assert waiting(redis_client) == [] and not recorder.messages


async def test_every_example_gets_the_right_bot_behaviour(channel, recorder, examples):
    async with serve(channel, recorder) as client:
        expected_turns = []
        for i, name in enumerate(sorted(EXPECTED)):
            # Several examples share one wamid; give each its own so dedupe keeps them all.
            payload = with_message(examples[name], id=f"wamid.example.{i}")
            body, headers = signed(payload)
            assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
            # Meta's "Button Message" is a template's "Unsubscribe" quick reply: an opt-out,
            # which the connector answers before Rasa (tests/test_consent_end_to_end.py).
            if EXPECTED[name][1] is not None and name != "Button Message":
                expected_turns.append((f"wamid.example.{i}", EXPECTED[name][1]))
        await wait_for(lambda: len(recorder.messages) == len(expected_turns))
        await asyncio.sleep(0.1)  # nothing else trickles in
    got = sorted((m.message_id, m.text) for m in recorder.messages)
    assert got == sorted(expected_turns)
    for m in recorder.messages:
        assert m.input_channel == "whatsapp" and m.metadata["whatsapp"]["wamid"] == m.message_id
        # The system message moved 16505551234 → 12195555358, but the conversation stayed.
        assert m.sender_id == "16505551234"
    image = next(m for m in recorder.messages if m.metadata["whatsapp"]["kind"] == "image")
    assert image.metadata["whatsapp"]["media"]["id"] == "1003383421387256"
    reads = dict(recorder.reads)
    reaction_id = f"wamid.example.{sorted(EXPECTED).index('Reaction Message')}"
    system_id = f"wamid.example.{sorted(EXPECTED).index('System Message')}"
    assert reads[reaction_id] is False  # read, but no "typing…" when nobody will answer
    assert system_id not in reads
    assert all(reads[wamid] is True for wamid, _ in expected_turns)


async def test_twenty_concurrent_identical_webhooks_give_one_turn(channel, recorder, redis_client):
    body, headers = signed(text_webhook("34600", "wamid.dup", "hola"))
    async with serve(channel, recorder) as client:
        results = await asyncio.gather(*(client.post("/webhook", content=body, headers=headers) for _ in range(20)))
        assert [r.status_code for r in results] == [200] * 20
        await wait_for(lambda: recorder.messages)
        await asyncio.sleep(0.2)
    assert len(recorder.messages) == 1


async def test_after_restart_pending_is_answered_and_done_is_not(config, redis_client, recorder):
    first = make_channel(config, redis_client, recorder)
    async with serve(first, recorder) as client:
        body, headers = signed(text_webhook("34600", "wamid.r1", "uno"))
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        await wait_for(lambda: len(recorder.messages) == 1)
    # Queued while the process is down (e.g. stored by the previous process just before it died).
    from connector.webhook.inbound import parse_webhook

    queued = parse_webhook(text_webhook("34600", "wamid.r2", "dos")).messages[0]
    Ingest(redis_client).enqueue("34600", queued.wamid, queued.envelope)
    wipe(redis_client)
    second = make_channel(config, redis_client, recorder)
    async with serve(second, recorder) as client:
        await wait_for(lambda: len(recorder.messages) == 2)
        # Meta redelivers the first one after the restart: not answered again.
        body, headers = signed(text_webhook("34600", "wamid.r1", "uno"))
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        await asyncio.sleep(0.2)
    assert [m.text for m in recorder.messages] == ["uno", "dos"]


async def test_redis_down_answers_503(config, recorder):
    dead = redis.Redis(port=free_port(), decode_responses=True, socket_connect_timeout=1)
    channel = WhatsAppInput(config, dead, poll_seconds=0.05)
    channel.get_output_channel = lambda: None
    body, headers = signed(text_webhook("34600", "wamid.down", "hola"))
    async with serve(channel, recorder) as client:
        r = await client.post("/webhook", content=body, headers=headers)
        assert r.status_code == 503
        assert (await client.get("/health")).status_code == 200


async def test_handed_off_message_goes_to_the_console_and_to_rasa(channel, recorder, redis_client):
    channel.handoff.request("34600", "asked for a person", "es", "Cliente", "hola")
    assert channel.handoff.claim("34600", "ana")
    pubsub = redis_client.pubsub()
    pubsub.subscribe(CUSTOMER_MESSAGES)
    pubsub.get_message(timeout=1)  # subscription confirmation
    body, headers = signed(text_webhook("34600", "wamid.h", "¿sigue ahí?"))
    async with serve(channel, recorder) as client:
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        await wait_for(lambda: recorder.messages)
    published = pubsub.get_message(timeout=2)
    pubsub.close()
    data = json.loads(published["data"])
    assert (data["conversation_id"], data["text"], data["name"]) == ("34600", "¿sigue ahí?", "Cliente")
    assert recorder.messages[0].text == "¿sigue ahí?"
    assert recorder.reads == [("wamid.h", False)]  # no "typing…": an agent, not the bot, answers


async def test_waiting_customer_can_go_back_to_the_bot(channel, recorder):
    channel.handoff.request("34600", "asked for a person", "es", "Cliente", "hola")
    body, headers = signed(text_webhook("34600", "wamid.back", "menu"))
    async with serve(channel, recorder) as client:
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        await wait_for(lambda: recorder.messages)
    assert channel.handoff.state("34600").state == "bot"
    assert recorder.reads == [("wamid.back", True)]  # the bot answers again, so "typing…"


async def test_customer_with_an_agent_stays_with_the_agent(channel, recorder):
    channel.handoff.request("34600", "asked for a person", "es", "Cliente", "hola")
    assert channel.handoff.claim("34600", "ana")
    body, headers = signed(text_webhook("34600", "wamid.stay", "menu"))
    async with serve(channel, recorder) as client:
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        await wait_for(lambda: recorder.messages)
    assert channel.handoff.state("34600").state == "assigned"


async def test_real_handoff_queue_routes_to_console(channel, recorder, redis_client):
    channel.handoff.request("34600", "asked for a person", "es", "Cliente", "quiero hablar con alguien")
    assert channel.handoff.state("34600").state == "queued"
    pubsub = redis_client.pubsub()
    pubsub.subscribe(CUSTOMER_MESSAGES)
    pubsub.get_message(timeout=1)
    body, headers = signed(text_webhook("34600", "wamid.q", "¿cuánto falta?"))
    async with serve(channel, recorder) as client:
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        await wait_for(lambda: recorder.messages)
    published = pubsub.get_message(timeout=2)
    pubsub.close()
    assert json.loads(published["data"])["wamid"] == "wamid.q"


async def test_window_is_recorded_from_the_customer_message(channel, recorder, redis_client):
    from connector.policy.window import ServiceWindow

    body, headers = signed(text_webhook("34600", "wamid.w", "hola", ts=1750000000))
    async with serve(channel, recorder) as client:
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        await wait_for(lambda: recorder.messages)
    status = ServiceWindow(redis_client).status("34600")
    assert status.last_inbound_at.timestamp() == 1750000000


async def test_bsuid_customer_gets_a_conversation(channel, recorder):
    payload = text_webhook("x", "wamid.bsuid", "hola")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": "Ana"}, "user_id": "US.1349"}]
    value["messages"][0].pop("from")
    value["messages"][0]["from_user_id"] = "US.1349"
    body, headers = signed(payload)
    async with serve(channel, recorder) as client:
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        await wait_for(lambda: recorder.messages)
    assert recorder.messages[0].sender_id == "US.1349"
    assert channel.identity.recipient("US.1349").fields() == {"recipient": "US.1349"}


def test_output_channel_is_the_outbound_whatsapp_channel(config, redis_client):
    from connector.channel.output import WhatsAppOutput

    channel = WhatsAppInput(config, redis_client)
    output = channel.get_output_channel()
    assert isinstance(output, WhatsAppOutput) and output.name() == "whatsapp"
    assert channel.get_output_channel() is output
    assert output.recipient_for("34600").fields() == {"to": "34600"}


async def test_read_receipt_goes_through_the_sender(config, redis_client):
    seen = []

    def graph(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), json.loads(request.content)))
        return httpx.Response(200, json={"success": True})

    async with httpx.AsyncClient(transport=httpx.MockTransport(graph)) as http:
        channel = WhatsAppInput(config, redis_client, http=http)
        await channel.get_output_channel().mark_read("wamid.X", typing=True)
    assert seen == [(config.messages_url, {"messaging_product": "whatsapp", "status": "read",
                                           "message_id": "wamid.X", "typing_indicator": {"type": "text"}})]


async def test_messages_to_another_number_of_the_account_are_not_answered(channel, recorder, redis_client):
    # The webhook subscription is per app/WABA: it also carries messages to the account's other
    # phone numbers. Answering them from ours would reply to someone else's customer.
    other = text_webhook("34600", "wamid.other", "hola")
    other["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999999999999999"
    other["entry"][0]["changes"][0]["value"]["statuses"] = [
        {"id": "wamid.theirs", "status": "failed", "timestamp": "1750000001", "recipient_id": "34600",
         "errors": [{"code": 131047, "title": "Re-engagement message"}]}]
    ours = text_webhook("34600", "wamid.ours", "hola")
    async with serve(channel, recorder) as client:
        for payload in (other, ours):
            body, headers = signed(payload)
            assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        await wait_for(lambda: recorder.messages)
        await asyncio.sleep(0.1)
    assert [m.message_id for m in recorder.messages] == ["wamid.ours"]
    assert Ingest(redis_client).state("wamid.other") is None
    assert not redis_client.exists("wa:out:wamid.theirs")
    assert "closed_at" not in redis_client.hgetall("wa:window:34600")


def _raw(payload: dict, **raw_values: str) -> bytes:
    """The JSON of payload with each string "<name>" replaced by raw JSON text: what a signed
    body can carry but json.dumps cannot write (1e400, 20-digit integers, \\ud800 escapes)."""
    body = json.dumps(payload)
    for name, raw in raw_values.items():
        body = body.replace(json.dumps(f"<{name}>"), raw).replace(f"<{name}>", raw)
    return body.encode()


def _stored_items(redis_client) -> list[str]:
    return [item for key in redis_client.scan_iter(INBOX_PATTERN) for item in redis_client.lrange(key, 0, -1)]


def _assert_storable(redis_client) -> None:
    """What the worker and Redis's own cjson (in the queue's Lua scripts) will read back."""
    from connector.webhook.inbound import parse_envelope

    def strict(constant):
        raise AssertionError(f"{constant} stored in the queue")

    for item in _stored_items(redis_client):
        parse_envelope(json.loads(item, parse_constant=strict)["envelope"])
        assert redis_client.eval("return cjson.decode(ARGV[1])['wamid']", 0, item)


STATUS = {"id": "wamid.S", "status": "read", "timestamp": "<ts>", "recipient_id": "34600",
          "conversation": {"id": "c1", "expiration_timestamp": "<ts>"}}


@pytest.mark.parametrize("raw_ts", ['"99999999999999999999"', "99999999999999999999", "1e18", "1000000000000000000"])
async def test_signed_absurd_timestamps_are_acknowledged(channel, recorder, redis_client, raw_ts):
    payload = text_webhook("34600", "wamid.ts", "hola")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"][0]["timestamp"] = "<ts>"
    value["statuses"] = [STATUS]
    body, headers = signed(_raw(payload, ts=raw_ts))
    async with serve(channel, recorder) as client:
        r = await client.post("/webhook", content=body, headers=headers)
        assert r.status_code == 200, r.text
        await wait_for(lambda: recorder.messages)
    assert recorder.messages[0].text == "hola"
    assert redis_client.hget("wa:out:wamid.S", "read_at") == "0"  # recorded, without a time
    _assert_storable(redis_client)


async def test_one_bad_message_does_not_lose_the_rest_of_the_batch(channel, recorder, redis_client):
    payload = text_webhook("34600", "wamid.good", "hola")
    value = payload["entry"][0]["changes"][0]["value"]
    good = value["messages"][0]
    value["messages"] = [
        {**good, "id": "wamid.inf", "timestamp": "<inf>"},  # 1e400 decodes to infinity
        {**good, "id": "wamid.surrogate<s>", "text": {"body": "a<s>b"}},
        good,
    ]
    value["contacts"][0]["profile"]["name"] = "Ana<s>"
    value["statuses"] = [{**STATUS, "timestamp": "<inf>"}, {**STATUS, "id": "wamid.S2", "timestamp": "1750000000"}]
    body, headers = signed(_raw(payload, inf="1e400", s=r"\ud800"))
    async with serve(channel, recorder) as client:
        r = await client.post("/webhook", content=body, headers=headers)
        assert r.status_code == 200, r.text
        await wait_for(lambda: len(recorder.messages) == 2)
    assert sorted(m.message_id for m in recorder.messages) == ["wamid.good", "wamid.surrogate\ufffd"]
    assert {m.text for m in recorder.messages} == {"hola", "a\ufffdb"}
    assert channel.identity.name("34600") == "Ana\ufffd"
    assert redis_client.hget("wa:out:wamid.S", "read_at") == "0"
    assert redis_client.hget("wa:out:wamid.S2", "read_at") == "1750000000"
    _assert_storable(redis_client)


@pytest.mark.parametrize("body,reason", [
    (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
    (b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 5000 + b"]" * 5000 + b"}", "invalid JSON"),
    (b'{"object": "whatsapp_business_account", "entry": NaN}', "invalid JSON"),
    (b'{"object": "whatsapp_business_account", "entry": [], "x": "\xff"}', "invalid JSON"),
    (b'{"object": "whatsapp_business_account", "entry": 1e400}', "invalid payload"),
    (b'"\\ud800"', "invalid payload"),
], ids=["deeper-than-recursion-limit", "deep-entry", "NaN", "not-utf8", "entry-overflows", "lone-surrogate-string"])
async def test_wholly_malformed_signed_bodies_get_400_with_the_reason(channel, recorder, body, reason):
    async with serve(channel, recorder) as client:
        r = await client.post("/webhook", content=body, headers=signed(body)[1])
    assert r.status_code == 400 and r.text.startswith(reason + ": ")


async def _http_exchange(client, head: bytes, chunks=()) -> bytes:
    """Send a request over a plain socket (headers, then body chunks, no more) and read the
    answer; a server still waiting for the rest of the body never answers, and this fails."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.base_url.port)
    try:
        writer.write(head)
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
        return await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()


async def test_declared_oversize_body_is_refused_before_it_is_read(channel, recorder):
    head = (b"POST /webhooks/whatsapp/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (60 * 1024 * 1024))
    async with serve(channel, recorder) as client:
        status = await _http_exchange(client, head)
        assert status.startswith(b"HTTP/1.1 413")
        assert (await client.get("/health")).status_code == 200


async def test_chunked_oversize_body_is_refused_while_streaming(channel, recorder):
    head = (b"POST /webhooks/whatsapp/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    piece = 64 * 1024
    chunks = [b"%x\r\n%s\r\n" % (piece, b" " * piece)] * (MAX_BODY_BYTES // piece + 2)
    async with serve(channel, recorder) as client:
        status = await _http_exchange(client, head, chunks)
        assert status.startswith(b"HTTP/1.1 413")


async def test_chunked_body_within_the_limit_is_accepted(channel, recorder):
    body, headers = signed(text_webhook("34600", "wamid.chunked", "hola"))

    async def pieces():
        for i in range(0, len(body), 100):
            yield body[i:i + 100]

    async with serve(channel, recorder) as client:
        r = await client.post("/webhook", content=pieces(), headers=headers)
        assert r.status_code == 200
        await wait_for(lambda: recorder.messages)


async def test_a_megabyte_text_reaches_rasa_cut_to_whatsapps_limit(channel, recorder):
    from connector.cloudapi.limits import TEXT_MAX

    body, headers = signed(text_webhook("34600", "wamid.mb", "¿" + "a" * (1024 * 1024)))
    async with serve(channel, recorder) as client:
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        await wait_for(lambda: recorder.messages)
    assert recorder.messages[0].text == ("¿" + "a" * TEXT_MAX)[:TEXT_MAX]


@pytest.mark.parametrize("length", [b"abc", b"-5", b"1e3"])
async def test_a_content_length_that_is_not_a_byte_count_gets_400_not_500(channel, recorder, length):
    # Sanic parses Content-Length with int() before any route runs: "abc" was a 500, "-5" hung.
    head = (b"POST /webhooks/whatsapp/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + length + b"\r\n\r\n")
    async with serve(channel, recorder) as client:
        status = await _http_exchange(client, head)
        assert status.startswith(b"HTTP/1.1 400")
        assert (await client.get("/health")).status_code == 200


class _ReceiptHeldUntilTheTurnStarts(FakeGraph):
    """Meta answering read receipts slowly: the receipt is answered only once the bot's turn
    has begun, so a turn that waited for its receipt first would never begin."""

    def __init__(self) -> None:
        super().__init__()
        self.turn_started = asyncio.Event()
        self.order: list[str] = []

    async def _handle(self, request):
        read = json.loads(request.content).get("status") == "read"
        if read:
            await asyncio.wait_for(self.turn_started.wait(), 5)
        self.order.append("read" if read else "message")
        return super()._handle(request)


async def test_the_turn_runs_while_its_read_receipt_is_in_flight_and_answers_after_it(config, redis_client):
    graph = _ReceiptHeldUntilTheTurnStarts()

    class Bot:
        messages: list = []

        async def on_new_message(self, message) -> None:
            graph.turn_started.set()
            await message.output_channel.send_text_message(message.sender_id, "¡Hola!")
            self.messages.append(message)

    bot = Bot()
    channel = WhatsAppInput(config, redis_client, poll_seconds=0.05, http=graph.client())
    body, headers = signed(text_webhook("34600", "wamid.slowread", "hola", ts=int(time.time())))
    async with serve(channel, bot) as client:
        assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
        await wait_for(lambda: len(graph.order) == 2, timeout=10)
    # Blue ticks and "typing…" reach the customer before the answer they announce.
    assert graph.order == ["read", "message"]
