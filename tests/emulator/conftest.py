"""An emulator on a free port, wired to a webhook receiver the test controls."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from werkzeug.serving import make_server

from emulator.app import create_app
from emulator.settings import Settings

TOKEN = "test-token"
SECRET = "test-app-secret"
PHONE_ID = "111222333444555"
CUSTOMER = "5215512345678"


def valid_signature(raw: bytes, header: str | None) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(expected, header)


def wait_for(predicate, timeout: float = 5.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Receiver:
    """Plays the connector: records every webhook and answers with scripted status codes."""
    url: str = ""
    hits: list = field(default_factory=list)
    script: list = field(default_factory=list)  # status codes to answer next, then 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict]:
        with self.lock:
            return [h["json"] for h in self.hits]

    def statuses(self, message_id: str | None = None) -> list[dict]:
        out = []
        for body in self.bodies():
            for entry in body["entry"]:
                for change in entry["changes"]:
                    for st in change["value"].get("statuses", []):
                        if message_id is None or st["id"] == message_id:
                            out.append(st)
        return out

    def messages(self) -> list[dict]:
        return [m for b in self.bodies() for e in b["entry"] for c in e["changes"]
                for m in c["value"].get("messages", [])]


@pytest.fixture
def receiver():
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with rec.lock:
                code = rec.script.pop(0) if rec.script else 200
                rec.hits.append({"raw": raw, "headers": dict(self.headers),
                                 "json": json.loads(raw), "answered": code})
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_port}/webhooks/whatsapp/webhook"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


@dataclass
class Emu:
    base: str
    settings: Settings
    core: object
    client: httpx.Client

    def send(self, body, token: str | None = TOKEN, phone_id: str = PHONE_ID) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.post(f"{self.base}/v23.0/{phone_id}/messages", json=body, headers=headers)

    def customer(self, action: dict, wa_id: str = CUSTOMER) -> dict:
        response = self.client.post(f"{self.base}/_emulator/customers/{wa_id}/messages", json=action)
        assert response.status_code == 200, response.text
        return response.json()

    def text(self, body: str = "hola", to: str = CUSTOMER) -> dict:
        return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                "type": "text", "text": {"body": body}}


def make_settings(webhook_url: str, **overrides) -> Settings:
    values = dict(access_token=TOKEN, app_secret=SECRET, phone_number_id=PHONE_ID,
                  webhook_url=webhook_url, sent_delay=0.02, delivered_delay=0.05,
                  auto_read_delay=-1, webhook_backoff=0.05, webhook_attempts=4,
                  webhook_timeout=3)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def emulator_factory(receiver):
    started = []

    def start(**overrides) -> Emu:
        settings = make_settings(receiver.url, **overrides)
        app = create_app(settings)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
        thread.start()
        emu = Emu(f"http://127.0.0.1:{server.server_port}", settings,
                  app.extensions["whatsapp_emulator"], httpx.Client(timeout=10))
        started.append((server, emu))
        return emu

    yield start
    for server, emu in started:
        server.shutdown()
        emu.client.close()
        emu.core.close()


@pytest.fixture
def emu(emulator_factory) -> Emu:
    return emulator_factory()


@pytest.fixture(scope="session")
def spec(shared_dir):
    """Meta's OpenAPI document, parsed once per run."""
    import yaml

    path = shared_dir / "whatsapp" / "meta-business-messaging-api_v23.0.yaml"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open() as fh:
        return yaml.load(fh, Loader=loader)


@pytest.fixture(scope="session")
def webhook_examples(shared_dir):
    path = shared_dir / "whatsapp" / "webhook_examples.json"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return json.loads(path.read_text())
