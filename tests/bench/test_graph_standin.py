"""The benchmarks' Graph stand-in answers as the Cloud API does and sends back status webhooks
our connector accepts; the load generator's webhooks are ones our connector accepts too."""
from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from aiohttp import ClientSession, web

from bench.graph_standin import StandIn, arrivals_from_json
from bench.load import WebhookTarget, faq_texts
from bench.figures import Sent
from connector.webhook import signature
from connector.webhook.inbound import load, parse_webhook
from core.redis_conn import free_port
from emulator.settings import Settings

SETTINGS = Settings(app_secret="bench-secret", phone_number_id="100000000000001")


async def _serve(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@pytest.fixture
async def graph():
    """The stand-in on a free port, its status webhooks going to a receiver that keeps them."""
    received: list[tuple[bytes, str | None]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers.get(signature.HEADER)))
        return web.Response(text="ok")

    hook_app = web.Application()
    hook_app.router.add_post("/webhook", webhook)
    hook_port, port = free_port(), free_port()
    hooks = await _serve(hook_app, hook_port)
    standin = StandIn(dataclasses.replace(SETTINGS, webhook_url=f"http://127.0.0.1:{hook_port}/webhook"))
    runner = await _serve(standin.app(), port)
    async with ClientSession() as http:
        yield standin, f"http://127.0.0.1:{port}", http, received
    await runner.cleanup()
    await hooks.cleanup()


async def _until(predicate, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached before the deadline"
        await asyncio.sleep(0.02)


def _text(to: str, body: str) -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"body": body}}


async def test_a_send_is_answered_like_the_cloud_api_and_recorded(graph):
    standin, url, http, _ = graph
    async with http.post(f"{url}/v23.0/{SETTINGS.phone_number_id}/messages", json=_text("5215550001", "hola")) as r:
        answer = await r.json()
    assert r.status == 200
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": "5215550001", "wa_id": "5215550001"}]
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    async with http.post(f"{url}/v23.0/{SETTINGS.phone_number_id}/messages",
                         json={"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}) as r:
        assert await r.json() == {"success": True}
    async with http.get(f"{url}/_standin/arrivals") as r:
        arrivals = arrivals_from_json(await r.json())
    assert [(a.kind, a.to, a.message_id) for a in arrivals] == [("message", "5215550001", wamid),
                                                                ("read", None, "wamid.IN1")]
    assert json.loads(arrivals[0].content) == {"type": "text", "text": {"body": "hola"}}
    async with http.get(f"{url}/_standin/arrivals", params={"since": 1}) as r:
        assert [a["kind"] for a in (await r.json())["arrivals"]] == ["read"]


async def test_each_accepted_message_brings_back_signed_sent_delivered_read_webhooks(graph):
    standin, url, http, received = graph
    async with http.post(f"{url}/v23.0/{SETTINGS.phone_number_id}/messages", json=_text("5215550002", "hola")) as r:
        wamid = (await r.json())["messages"][0]["id"]
    await _until(lambda: len(received) == 3)
    statuses = []
    for body, header in received:
        assert signature.verify(body, header, SETTINGS.app_secret) is signature.Verdict.VALID
        batch = parse_webhook(load(body))  # the connector's own parsing accepts them
        statuses += [(s.wamid, s.status) for s in batch.statuses]
    assert statuses == [(wamid, "sent"), (wamid, "delivered"), (wamid, "read")]


async def test_faults_refuse_sends_with_meta_errors_and_are_recorded_as_refused(graph):
    standin, url, http, received = graph
    async with http.post(f"{url}/_standin/settings", json={"fault_rate": 1.0}) as r:
        assert (await r.json())["fault_rate"] == 1.0
    async with http.post(f"{url}/v23.0/{SETTINGS.phone_number_id}/messages", json=_text("5215550003", "hola")) as r:
        assert r.status in (400, 429, 500)
        assert "code" in (await r.json())["error"]
    assert [(a.kind, a.status != 200) for a in standin.arrivals] == [("message", True)]
    assert standin.webhooks_sent == 0  # nothing accepted, so no status comes back


async def test_another_phone_number_is_refused(graph):
    standin, url, http, _ = graph
    async with http.post(f"{url}/v23.0/999/messages", json=_text("5215550004", "hola")) as r:
        assert r.status == 400
    assert standin.arrivals == []


def test_the_load_generators_webhook_is_one_our_connector_accepts():
    target = WebhookTarget("http://unused", SETTINGS)
    text = faq_texts()[0]
    body = target.body(Sent("5215550005", "wamid.LOAD1", text, posted=0.0))
    assert signature.verify(body, signature.sign(body, SETTINGS.app_secret), SETTINGS.app_secret) is signature.Verdict.VALID
    [message] = parse_webhook(load(body)).messages
    assert (message.sender.wa_id, message.wamid, message.kind, message.text) == ("5215550005", "wamid.LOAD1", "text", text)
    assert message.phone_number_id == SETTINGS.phone_number_id


def test_faq_texts_are_the_spanish_examples():
    texts = faq_texts()
    assert "olvide mi contraseña" in texts and "forgot my password" not in texts
