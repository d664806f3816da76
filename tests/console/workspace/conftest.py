"""The workspace pages on a real SQLite event store, filled through Rasa's SQLEventBroker."""
from __future__ import annotations

import pytest

from console import create_app
from tests.bot.insights.recorder import Recorder, sqlite_url
from tests.console.conftest import SECRET


@pytest.fixture
def events_url(tmp_path):
    return sqlite_url(tmp_path)


@pytest.fixture
def recorder(events_url):
    return Recorder(events_url)


@pytest.fixture
def app(redis_client, clock, fake_rasa, users, events_url):
    return create_app({
        "REDIS": redis_client, "CLOCK": clock, "RASA_URL": fake_rasa.url, "RASA_TOKEN": fake_rasa.token,
        "SECRET_KEY": SECRET, "TESTING": True, "EVENTS_DB_URL": events_url, "TIMEZONE": "UTC",
    })
