"""Helpers for the inbound connector tests: Meta's examples, a channel wired to the test
Redis, and the real Sanic blueprint served on a free port (sanic-testing is not installed)."""
from __future__ import annotations

import contextlib
import copy
import json
import uuid
from typing import Any

import httpx
import pytest
from sanic import Sanic

from core.redis_conn import free_port
from connector.webhook import signature
from connector.cloudapi.config import WhatsAppConfig
from connector.channel.input import WhatsAppInput

Sanic.test_mode = True  # several apps per process, one per test

SECRET = "test-app-secret"
VERIFY = "test-verify-token"


@pytest.fixture(scope="session")
def examples(shared_dir) -> dict[str, dict]:
    return json.loads((shared_dir / "whatsapp" / "webhook_examples.json").read_text())


@pytest.fixture(autouse=True)
def app_secret_in_environment(monkeypatch):
    """The connector tags its button ids with a key derived from WHATSAPP_APP_SECRET."""
    monkeypatch.setenv("WHATSAPP_APP_SECRET", SECRET)


@pytest.fixture
def config() -> WhatsAppConfig:
    return WhatsAppConfig(
        verify_token=VERIFY, app_secret=SECRET, access_token="EMULATOR-x",
        phone_number_id="106540352242922", graph_url="http://127.0.0.1:9",
    )


class Recorder:
    """Stands in for Rasa's turn (on_new_message); Meta, for the read receipts, is a FakeGraph."""

    def __init__(self) -> None:
        from tests.connector.fake_graph import FakeGraph

        self.messages: list = []
        self.graph = FakeGraph()

    async def on_new_message(self, message) -> None:
        self.messages.append(message)

    @property
    def reads(self) -> list[tuple[str, bool]]:
        """(wamid, with "typing…") for each read receipt sent to Meta."""
        return [(r["body"]["message_id"], "typing_indicator" in r["body"])
                for r in self.graph.requests if r["body"].get("status") == "read"]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def channel(config, redis_client, recorder) -> WhatsAppInput:
    return make_channel(config, redis_client, recorder)


def make_channel(config, redis_client, recorder, workers: int = 4) -> WhatsAppInput:
    return WhatsAppInput(config, redis_client, workers=workers, poll_seconds=0.05, http=recorder.graph.client())


@contextlib.asynccontextmanager
async def serve(channel: WhatsAppInput, recorder: Recorder):
    """The channel's blueprint in a real Sanic server, as Rasa mounts it; yields an httpx client."""
    from rasa.core.agent import Agent

    app = Sanic(f"t{uuid.uuid4().hex[:10]}")
    # Rasa's agent with no model loaded (as after DELETE /model): the recorder answers instead.
    app.ctx.agent = Agent()
    app.blueprint(channel.blueprint(recorder.on_new_message), url_prefix="/webhooks/whatsapp")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/webhooks/whatsapp", timeout=10) as client:
            yield client
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


def signed(payload: Any, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {signature.HEADER: signature.sign(body, secret), "content-type": "application/json"}


def with_message(example: dict, **changes: Any) -> dict:
    """A copy of a webhook example whose first message has `changes` applied."""
    payload = copy.deepcopy(example)
    payload["entry"][0]["changes"][0]["value"]["messages"][0].update(changes)
    return payload


def text_webhook(wa_id: str, wamid: str, body: str, ts: int = 1750000000, name: str = "Cliente") -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": wamid, "timestamp": str(ts), "type": "text",
                          "text": {"body": body}}],
        }}]}],
    }


async def wait_for(predicate, timeout: float = 5.0) -> None:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
