"""The emulator's Graph API in this process, for clients that take an httpx.Client: no port,
no thread, yet every request goes through the emulator's real Flask app."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import httpx

from connector.cloudapi.config import GraphTarget
from emulator.app import create_app
from emulator.settings import Settings

from tests.emulator.conftest import PHONE_ID, TOKEN

BASE = "http://emulator.test"


@dataclass
class InProcessGraph:
    target: GraphTarget
    client: httpx.Client
    emulator: object   # emulator.core.Emulator: its state, for assertions


@contextlib.contextmanager
def in_process_graph(**settings):
    app = create_app(Settings(access_token=TOKEN, phone_number_id=PHONE_ID, **settings))
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE)
    try:
        yield InProcessGraph(GraphTarget(TOKEN, PHONE_ID, graph_url=BASE), client,
                             app.extensions["whatsapp_emulator"])
    finally:
        client.close()
        app.extensions["whatsapp_emulator"].close()
