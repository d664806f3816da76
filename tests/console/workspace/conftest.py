"""Workspace fixtures: the console on a copy of the project and of hours.yml in tmp_path, so no
test writes the repository's own data/ or hours.yml, and a real SQLite event store, filled
through Rasa's SQLEventBroker."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.profile.sync import ProfileSync
from console import create_app
from tests.bot.insights.recorder import Recorder, sqlite_url

from ..conftest import SECRET

ROOT = Path(__file__).resolve().parents[3]


def copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(ROOT / "data", project / "data")
    for name in ("domain.yml", "config.yml"):
        shutil.copy(ROOT / name, project / name)
    return project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


@pytest.fixture
def hours_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "hours.yml"
    shutil.copy(ROOT / "hours.yml", path)
    # Anything that falls back to BUSINESS_HOURS_FILE reads the copy too.
    monkeypatch.setenv("BUSINESS_HOURS_FILE", str(path))
    return path


@pytest.fixture
def events_url(tmp_path):
    return sqlite_url(tmp_path)


@pytest.fixture
def recorder(events_url):
    return Recorder(events_url)


@pytest.fixture
def app(redis_client, clock, fake_rasa, users, project, hours_path, events_url):
    """The console app of tests/console/conftest.py on the copied project and hours, reading the store."""
    return create_app({
        "REDIS": redis_client, "CLOCK": clock, "RASA_URL": fake_rasa.url, "RASA_TOKEN": fake_rasa.token,
        "SECRET_KEY": SECRET, "TESTING": True, "PROJECT_DIR": project, "BUSINESS_HOURS_FILE": str(hours_path),
        "EVENTS_DB_URL": events_url, "TIMEZONE": "UTC",
        # Never the WHATSAPP_* of the shell running the tests: a saved hours file syncs the profile.
        "PROFILE": ProfileSync(redis_client, None, hours_file=hours_path, clock=clock,
                               not_configured="WhatsApp is not configured in these tests"),
    })
