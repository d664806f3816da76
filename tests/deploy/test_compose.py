"""deploy/compose.yaml: Docker Compose's own parser accepts it, and every process of ours gets
every setting the launcher gives it under `make run` (no Docker engine runs here)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from connector.cloudapi import config as whatsapp_config
from ops import launcher

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
# Set by the launcher for what the production files do not run, each with why.
NOT_DEPLOYED = {
    "EMULATOR_PORT": "the emulator stands in for Meta on a developer's machine only",
    "CONNECTOR_WEBHOOK_URL": "the emulator's webhook target",
    "BIND_HOST": "the launcher writes it into argv; each compose command names its --interface",
}


def _compose_binary() -> str:
    """Docker Compose v2 from `make compose` (scripts/ensure-compose); never downloaded here."""
    found = subprocess.run([str(ROOT / "scripts" / "ensure-compose"), "--installed"], cwd=ROOT,
                           capture_output=True, text=True)
    if found.returncode != 0:
        pytest.skip("docker-compose is not installed: `make compose` installs it (scripts/ensure-compose)")
    return str(ROOT / found.stdout.strip())


def _secrets() -> dict[str, str]:
    """A value for every variable the file requires (${VAR:?…}), as deploy/.env would give."""
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    return {name: f"dummy-{name.lower()}" for name in required}


def _config(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    # --env-file /dev/null: a developer's own deploy/.env must not decide the outcome.
    return subprocess.run([_compose_binary(), "-f", str(path), "--env-file", "/dev/null", "config", "-q"],
                          env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=30)


def test_docker_compose_accepts_the_production_file():
    done = _config(COMPOSE, _secrets())
    assert done.returncode == 0, done.stderr


def test_docker_compose_refuses_an_invalid_file(tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    restart: unless-stopped", "    restarts: unless-stopped", 1))
    done = _config(broken, _secrets())
    assert done.returncode != 0
    assert "restart" in done.stderr


def test_a_missing_secret_stops_docker_compose_naming_it():
    env = _secrets()
    del env["RASA_TOKEN"]
    done = _config(COMPOSE, env)
    assert done.returncode != 0
    assert "RASA_TOKEN" in done.stderr


def _launcher_settings(tmp_path, monkeypatch) -> set[str]:
    """The names `make run` gives its processes in production mode (a Redis and a WhatsApp
    account of one's own), less what the caller passed in."""
    monkeypatch.setattr(launcher, "VAR", tmp_path / "var")
    given = {"REDIS_URL": "redis://127.0.0.1:1/0", "WHATSAPP_ACCESS_TOKEN": "x",
             "EVENTS_DB_URL": f"sqlite:///{tmp_path / 'events.db'}"}
    env, embedded, emulator_mode = launcher.build_environment(given)
    assert embedded is None and not emulator_mode
    return set(env)


def _required_settings(tmp_path, monkeypatch) -> set[str]:
    launched = _launcher_settings(tmp_path, monkeypatch)
    assert set(NOT_DEPLOYED) <= launched, "NOT_DEPLOYED names a setting the launcher no longer sets"
    endpoints = set(re.findall(r"\$\{(\w+)\}", (ROOT / "endpoints.yml").read_text()))
    whatsapp = {variable for variable, default in whatsapp_config._FIELDS.values() if default is None}
    return (launched - set(NOT_DEPLOYED)) | endpoints | whatsapp


def test_every_process_of_ours_gets_every_setting_the_launcher_gives(tmp_path, monkeypatch):
    required = _required_settings(tmp_path, monkeypatch)
    assert {"REDIS_PASSWORD", "RASA_TOKEN", "WHATSAPP_APP_SECRET", "EVENTS_DB_URL"} <= required
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    ours = {name: s for name, s in services.items() if str(s.get("image", "")).startswith("alba-whatsapp:")}
    assert {"ingress", "rasa", "actions", "console", "publisher", "outreach"} <= set(ours)
    for name, service in ours.items():
        missing = required - set(service.get("environment") or {})
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_every_process_of_ours_sees_what_the_console_edits():
    # The FAQ editor writes data/, the hours editor BUSINESS_HOURS_FILE: the actions and the
    # workers must read the same files, not their image's copies.
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name, service in services.items():
        if not str(service.get("image", "")).startswith("alba-whatsapp:"):
            continue
        mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"]}
        assert mounts.get("/app/data") == "content", name
        assert mounts.get("/app/settings") == "settings", name
        for variable in ("BUSINESS_HOURS_FILE", "BUSINESS_PROFILE_FILE"):
            assert service["environment"][variable].startswith("/app/settings/"), (name, variable)
