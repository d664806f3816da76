"""credentials.yml as Rasa reads it, and the routes Rasa mounts for the channel."""
import uuid
from pathlib import Path

import pytest
from sanic import Sanic

from connector.cloudapi.config import ConfigError
from connector.channel.input import WhatsAppInput

ROOT = Path(__file__).resolve().parents[3]
ENV = {
    "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_APP_SECRET": "s", "WHATSAPP_ACCESS_TOKEN": "a",
    "WHATSAPP_PHONE_NUMBER_ID": "123",
}


@pytest.fixture
def env(monkeypatch, redis_url):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("WHATSAPP_API_VERSION", raising=False)
    monkeypatch.delenv("WHATSAPP_GRAPH_URL", raising=False)


def test_credentials_file_loads_the_channel_from_the_environment(env):
    from rasa.core.run import create_http_input_channels

    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    whatsapp = [c for c in channels if isinstance(c, WhatsAppInput)]
    assert len(whatsapp) == 1 and whatsapp[0].name() == "whatsapp"
    assert whatsapp[0].config.messages_url == "https://graph.facebook.com/v23.0/123/messages"
    # What a deployment exposes has no REST channel: it would let anyone write as any customer.
    assert {c.name() for c in channels} == {"whatsapp"}


def test_local_credentials_add_the_rest_channel_for_the_terminal_chat(env):
    from rasa.core.run import create_http_input_channels

    channels = create_http_input_channels(None, str(ROOT / "credentials.local.yml"))
    assert {c.name() for c in channels} == {"whatsapp", "rest"}


def test_missing_variable_fails_at_startup(env, monkeypatch):
    from rasa.core.run import create_http_input_channels

    monkeypatch.delenv("WHATSAPP_APP_SECRET")
    with pytest.raises(ConfigError, match="WHATSAPP_APP_SECRET"):
        create_http_input_channels("connector.channel.input.WhatsAppInput", str(ROOT / "credentials.yml"))


def test_missing_redis_url_fails_at_startup(env, monkeypatch):
    monkeypatch.delenv("REDIS_URL")
    with pytest.raises(ConfigError, match="REDIS_URL"):
        WhatsAppInput.from_credentials(None)


def test_rasa_mounts_the_webhook_under_webhooks_whatsapp(env):
    from rasa.core.channels.channel import register

    Sanic.test_mode = True
    app = Sanic(f"r{uuid.uuid4().hex[:8]}")

    async def on_new_message(message):
        return None

    register([WhatsAppInput.from_credentials({})], app, route="/webhooks/")
    paths = {route.path for route in app.router.routes}
    assert {"webhooks/whatsapp/webhook", "webhooks/whatsapp/health"} <= paths
