"""The shipped assistant as Rasa runs it — the trained model, the Redis tracker store of
endpoints.yml, the action server (here, in this process) — behind the channel's turn handler,
with FakeGraph in place of Meta."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import pytest

from bot.handoff import Handoff
from connector.channel.output import WhatsAppOutput
from connector.channel.tracker import RasaTrackers
from connector.channel.turns import TurnHandler
from connector.cloudapi.sender import PacingPolicy, build_sender
from connector.inbox.pool import WorkerPool
from connector.inbox.queue import DONE, Ingest, QueuedItem
from connector.policy.consent import ConsentRegister
from connector.policy.window import ServiceWindow
from connector.webhook.identity import Identity
from connector.webhook.inbound import parse_webhook
from core.redis_conn import RedisAddress, free_port
from tests.connector.conftest import text_webhook
from tests.connector.fake_graph import CONFIG, FakeGraph

CONV = "34600"


@pytest.fixture
async def action_server(redis_url, monkeypatch):
    """`rasa run actions`, served from this process so tests can reach into its Redis."""
    from rasa_sdk.endpoint import create_app

    monkeypatch.setenv("REDIS_URL", redis_url)
    app = create_app("actions")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    yield f"http://127.0.0.1:{port}/webhook"
    await server.before_stop()
    server.close()
    await server.wait_closed()
    await server.after_stop()


@pytest.fixture(scope="session")
def shipped_agent(trained_model, redis_url):
    """What `rasa run` loads: the model, a Redis tracker store (cleared with the test's Redis).
    Once per worker, as one Rasa process serves every customer: a load costs about a second."""
    from rasa.core.agent import Agent
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.tracker_store import RedisTrackerStore
    from rasa.shared.core.domain import Domain

    address = RedisAddress.parse(redis_url)
    store = RedisTrackerStore(Domain.empty(), host=address.host, port=address.port, db=address.db,
                              password=address.password, key_prefix="rasa")
    return Agent.load(str(trained_model), tracker_store=store, lock_store=InMemoryLockStore())


@pytest.fixture
def rasa_agent(shipped_agent, redis_client, action_server):
    """The loaded agent calling this test's action server (endpoints.yml's action_endpoint)."""
    from rasa.utils.endpoints import EndpointConfig

    shipped_agent.action_endpoint = shipped_agent.processor.action_endpoint = EndpointConfig(action_server)
    return shipped_agent


def inbound(text: str, wamid: str, conv: str = CONV) -> QueuedItem:
    """A customer's text as the inbox hands it to the turn handler (sent just now)."""
    message = parse_webhook(text_webhook(conv, wamid, text, ts=int(time.time()))).messages[0]
    return QueuedItem(conv, wamid, dict(message.envelope), "")


@dataclass
class Wired:
    """One process's channel: handler, output, handoff and window on the test Redis."""

    agent: Any
    redis: Any
    handoff: Handoff
    window: ServiceWindow
    graph: FakeGraph
    output: WhatsAppOutput
    handler: TurnHandler
    trackers: RasaTrackers

    async def tracker(self, conv: str = CONV):
        return await self.agent.tracker_store.retrieve(conv)

    async def says(self, text: str, wamid: str, conv: str = CONV) -> list[dict]:
        """The customer writes; the bodies Meta accepted for the business because of it."""
        before = len(self.graph.accepted)
        await self.handler(inbound(text, wamid, conv))
        return self.graph.accepted[before:]

    async def through_the_pool(self, text: str, wamid: str, conv: str = CONV, timeout: float = 60) -> None:
        """The message queued and served by the worker pool, as in production, until done."""
        ingest = Ingest(self.redis)
        message = parse_webhook(text_webhook(conv, wamid, text, ts=int(time.time()))).messages[0]
        ingest.enqueue(conv, message.wamid, message.envelope)
        pool = WorkerPool(ingest, self.handler, size=1, poll_seconds=0.02,
                          already_handled=self.trackers.handled)
        await pool.start()
        try:
            deadline = time.monotonic() + timeout
            while ingest.state(wamid) != DONE:
                assert time.monotonic() < deadline, f"{wamid} not handled in time"
                await asyncio.sleep(0.05)
        finally:
            await pool.stop()


def wire(agent, redis_client, *, graph: FakeGraph | None = None, handoff: Handoff | None = None,
         window: ServiceWindow | None = None, on_new_message=None) -> Wired:
    """Wired as WhatsAppInput.start_workers wires it, around `agent`."""
    graph = graph or FakeGraph()
    handoff = handoff or Handoff(redis_client)
    window = window or ServiceWindow(redis_client)
    sender = build_sender(CONFIG, redis_client, window=window, http=graph.client(),
                          pacing=PacingPolicy(burst=1000))
    output = WhatsAppOutput(sender, Identity(redis_client).recipient, handoff=handoff)
    trackers = RasaTrackers(lambda: agent, handoff)
    handler = TurnHandler(on_new_message or agent.handle_message, trackers, output, handoff, window,
                          redis_client, ConsentRegister(redis_client))
    return Wired(agent, redis_client, handoff, window, graph, output, handler, trackers)
