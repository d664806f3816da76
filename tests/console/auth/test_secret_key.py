"""The session-signing key is generated once and shared through Redis."""
from __future__ import annotations

from console import create_app
from console.auth.secret_key import KEY as SECRET_KEY_KEY


def test_secret_key_is_generated_once(redis_client, fake_rasa, monkeypatch):
    monkeypatch.delenv("CONSOLE_SECRET_KEY", raising=False)
    first = create_app({"REDIS": redis_client, "RASA_URL": fake_rasa.url})
    second = create_app({"REDIS": redis_client, "RASA_URL": fake_rasa.url})
    assert len(first.secret_key) == 64
    assert first.secret_key == second.secret_key == redis_client.get(SECRET_KEY_KEY)
