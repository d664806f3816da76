"""Workspace fixtures: the console on a copy of the project and of hours.yml in tmp_path, so no
test writes the repository's own data/ or hours.yml."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from console import create_app

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
def app(redis_client, clock, fake_rasa, users, project, hours_path):
    """The console app of tests/console/conftest.py, editing the copied project and hours."""
    return create_app({
        "REDIS": redis_client, "CLOCK": clock, "RASA_URL": fake_rasa.url, "RASA_TOKEN": fake_rasa.token,
        "SECRET_KEY": SECRET, "TESTING": True, "PROJECT_DIR": project, "BUSINESS_HOURS_FILE": str(hours_path),
    })
