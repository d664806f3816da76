"""Workspace fixtures: the console on a copy of hours.yml, never the repository's own file."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from console import create_app

from ..conftest import SECRET

REPO_HOURS = Path(__file__).resolve().parents[3] / "hours.yml"


@pytest.fixture
def hours_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "hours.yml"
    shutil.copy(REPO_HOURS, path)
    # Anything that falls back to BUSINESS_HOURS_FILE reads the copy too.
    monkeypatch.setenv("BUSINESS_HOURS_FILE", str(path))
    return path


@pytest.fixture
def app(redis_client, clock, fake_rasa, users, hours_path):
    return create_app({
        "REDIS": redis_client, "CLOCK": clock, "RASA_URL": fake_rasa.url, "RASA_TOKEN": fake_rasa.token,
        "SECRET_KEY": SECRET, "TESTING": True, "BUSINESS_HOURS_FILE": str(hours_path),
    })
