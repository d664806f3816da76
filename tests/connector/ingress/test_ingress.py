"""`python -m connector.ingress` as `make run` starts it: a process of its own, on the test Redis."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from connector.inbox.queue import inbox_key
from core.redis_conn import free_port
from tests.connector.conftest import SECRET, VERIFY, signed, text_webhook

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("rasa", "rasa_sdk", "tensorflow", "tensorflow_hub", "torch", "sklearn")


def _env(redis_url: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": redis_url,
            "WHATSAPP_APP_SECRET": SECRET, "WHATSAPP_VERIFY_TOKEN": VERIFY,
            "WHATSAPP_ACCESS_TOKEN": "EMULATOR-x", "WHATSAPP_PHONE_NUMBER_ID": "106540352242922"}


def test_the_ingress_process_loads_neither_rasa_nor_tensorflow(redis_url):
    script = ("import sys, json\n"
              "from connector.cloudapi.config import WhatsAppConfig\n"
              "from connector.ingress.__main__ import create_app, WebhookEndpoint, redis_from_env\n"
              "create_app(WebhookEndpoint(WhatsAppConfig.load({}), redis_from_env()))\n"
              "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=_env(redis_url),
                         capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out))
    assert "sanic" in loaded and not loaded & set(HEAVY)


@pytest.fixture
def ingress(redis_url, redis_client, tmp_path):
    port = free_port()
    log = open(tmp_path / "ingress.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "connector.ingress", "--port", str(port)], cwd=ROOT,
                            env=_env(redis_url), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            assert proc.poll() is None, (tmp_path / "ingress.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the ingress did not come up"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_ingress_serves_the_channels_webhook(ingress, redis_client):
    # The shared endpoint's limits and edge cases are tested on the channel (test_input.py).
    base = f"{ingress}/webhooks/whatsapp"
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/health").json()["status"] == "ok"
        verify = client.get("/webhook", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                                "hub.challenge": "42"})
        assert (verify.status_code, verify.text) == (200, "42")
        assert client.get("/webhook", params={"hub.mode": "subscribe", "hub.verify_token": "no"}).status_code == 403
        body, headers = signed(text_webhook("34600", "wamid.ingress", "hola"))
        assert client.post("/webhook", content=body, headers={"content-type": "application/json"}).status_code == 401
        assert client.post("/webhook", content=body, headers=signed(body, "other")[1]).status_code == 403
        assert client.post("/webhook", content=b"{x", headers=signed(b"{x")[1]).status_code == 400
        assert client.post("/webhook", content=body, headers=headers).status_code == 200
    assert json.loads(redis_client.lindex(inbox_key("34600"), 0))["wamid"] == "wamid.ingress"
