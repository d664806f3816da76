"""ops/launcher.py: what `make run` starts (no process is started here)."""
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
import redis

from core import redis_conn
from core.redis_conn import RedisAddress, get_redis
from ops import launcher
from ops.launcher import ROOT, processes
from tests.stack import Stack

SECRETS = {"RASA_TOKEN": "rasa-secret-Zq9", "ACTION_SERVER_TOKEN": "actions-secret-Xw4"}


def test_the_action_server_listens_only_where_bind_host_says():
    env = {**SECRETS, "BIND_HOST": "127.0.0.1"}
    assert "--interface 127.0.0.1 " in processes(env, emulator_mode=True)["actions"]
    env["BIND_HOST"] = "0.0.0.0"
    assert "--interface 0.0.0.0 " in processes(env, emulator_mode=False)["actions"]


def test_rest_channel_only_in_emulator_mode():
    env = {**SECRETS, "BIND_HOST": "127.0.0.1"}
    assert "--credentials credentials.local.yml " in processes(env, emulator_mode=True)["rasa"]
    assert "--credentials credentials.yml " in processes(env, emulator_mode=False)["rasa"]


def test_no_token_is_on_a_command_line_of_the_launcher_or_the_test_stack(tmp_path):
    # argv is readable by every local user (/proc/PID/cmdline, ps): tokens go by environment.
    commands = list(processes({**SECRETS, "BIND_HOST": "127.0.0.1"}, emulator_mode=True).values())
    stack = Stack("redis://127.0.0.1:1/0", Path("model.tar.gz"), tmp_path, extra_env=SECRETS)
    commands += [" ".join(argv) for argv in stack.commands().values()]
    for command in commands:
        for secret in SECRETS.values():
            assert secret not in command, command


def test_make_run_sends_the_emulators_webhooks_to_the_ingress(var):
    env, embedded, emulator_mode = launcher.build_environment({})
    embedded.stop()
    ingress = processes(env, emulator_mode)["ingress"]
    assert f"-m connector.ingress --interface 127.0.0.1 --port {launcher.WEBHOOK_PORT}" in ingress
    assert env["CONNECTOR_WEBHOOK_URL"] == f"http://127.0.0.1:{launcher.WEBHOOK_PORT}/webhooks/whatsapp/webhook"


@pytest.fixture
def var(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "VAR", tmp_path / "var")
    monkeypatch.setattr(redis_conn, "DEFAULT_EMBEDDED_PORT", redis_conn.free_port())
    return tmp_path / "var"


def test_the_launchers_embedded_redis_has_a_password_every_process_gets(var):
    env, embedded, _ = launcher.build_environment({})
    try:
        stored = json.loads((var / "local-secrets.json").read_text())
        assert stored["REDIS_PASSWORD"]
        assert RedisAddress.parse(env["REDIS_URL"]).password == stored["REDIS_PASSWORD"]
        # endpoints.yml gives Rasa's tracker and lock stores ${REDIS_PASSWORD}.
        assert env["REDIS_PASSWORD"] == stored["REDIS_PASSWORD"]
        assert "${REDIS_PASSWORD}" in (ROOT / "endpoints.yml").read_text()
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=embedded.port).ping()
        assert get_redis(env["REDIS_URL"]).ping()
        assert stat.S_IMODE(var.stat().st_mode) == 0o700
    finally:
        embedded.stop()


def test_an_existing_secrets_file_is_made_owner_only_and_completed(var):
    var.mkdir()
    path = var / "local-secrets.json"
    path.write_text(json.dumps({"RASA_TOKEN": "kept", "CONSOLE_SECRET_KEY": "kept-too"}))
    os.chmod(path, 0o644)
    values = launcher._local_secrets()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert values["RASA_TOKEN"] == "kept" and values["CONSOLE_SECRET_KEY"] == "kept-too"
    assert values["ACTION_SERVER_TOKEN"] and values["REDIS_PASSWORD"]
    assert json.loads(path.read_text()) == values


def test_the_launchers_emulator_keeps_its_state_under_var(var):
    env, embedded, emulator_mode = launcher.build_environment({})
    embedded.stop()
    assert emulator_mode and env["EMULATOR_STATE_DIR"] == str(var / "emulator")


def test_every_process_counts_into_one_metrics_dir_emptied_at_each_start(var):
    from core.metrics import MULTIPROC_ENV

    stale = var / "metrics" / "counter_4242.db"  # the last run's counts of some pid
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"last run")
    env, embedded, _ = launcher.build_environment({})
    embedded.stop()
    assert env[MULTIPROC_ENV] == str(var / "metrics")
    assert list((var / "metrics").iterdir()) == []


def _rasa_event_broker(env: dict[str, str]):
    """What Rasa builds from endpoints.yml's `event_broker` in this environment."""
    import asyncio

    from rasa.core.brokers.broker import EventBroker
    from rasa.core.utils import read_endpoints_from_path

    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        endpoints = read_endpoints_from_path(str(ROOT / "endpoints.yml"))
    return asyncio.run(EventBroker.create(endpoints.event_broker))


def test_the_launcher_gives_rasa_an_sqlite_event_store_under_var_by_default(var):
    env, embedded, _ = launcher.build_environment({})
    embedded.stop()
    assert env["EVENTS_DB_URL"] == f"sqlite:///{(var / 'events.db').resolve()}"
    # Prepared before Rasa opens it: WAL, so the console's reads never block Rasa's writes.
    assert sqlite3.connect(var / "events.db").execute("PRAGMA journal_mode").fetchone() == ("wal",)
    broker = _rasa_event_broker(env)
    assert type(broker).__name__ == "EventStoreBroker"  # bot/insights/broker.py, not Rasa's own
    broker.publish({"sender_id": "x", "event": "user", "text": "hola"})
    assert sqlite3.connect(var / "events.db").execute("SELECT count(*) FROM events").fetchone() == (1,)


def test_an_events_db_url_given_to_the_launcher_is_kept(var):
    given = f"sqlite:///{var.parent / 'elsewhere.db'}"
    env, embedded, _ = launcher.build_environment({"EVENTS_DB_URL": given})
    embedded.stop()
    assert env["EVENTS_DB_URL"] == given
    assert str(_rasa_event_broker(env).engine.url) == given


def test_the_test_stack_gives_rasa_an_event_store_as_the_launcher_does(tmp_path):
    stack = Stack("redis://127.0.0.1:1/0", Path("model.tar.gz"), tmp_path)
    assert stack.env["EVENTS_DB_URL"] == f"sqlite:///{(tmp_path / 'events.db').resolve()}"
    assert "${EVENTS_DB_URL}" in (ROOT / "endpoints.yml").read_text()


def test_make_run_syncs_the_business_profile_once_everything_is_up(redis_url, redis_client):
    from tests.emulator.in_process import BASE, PHONE_ID, TOKEN, in_process_graph

    env = {"REDIS_URL": redis_url, "WHATSAPP_ACCESS_TOKEN": TOKEN, "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
           "WHATSAPP_APP_SECRET": "secret", "WHATSAPP_VERIFY_TOKEN": "verify", "WHATSAPP_GRAPH_URL": BASE}
    with in_process_graph() as graph:
        assert launcher.sync_profile(env, http=graph.client).startswith("WhatsApp profile updated")
        assert "• Sábado: 10:00–15:00" in graph.emulator.profile["description"]
        # Meta unreachable: the start goes on, and the failure is what the console then shows.
        assert launcher.sync_profile({**env, "WHATSAPP_ACCESS_TOKEN": "revoked"}, http=graph.client).startswith(
            "WhatsApp profile not updated: Invalid OAuth access token")
        assert "Invalid OAuth" in redis_client.hget("profile:sync", "error")


def test_a_profile_sync_without_redis_still_lets_the_start_banner_print():
    from tests.emulator.in_process import BASE, PHONE_ID, TOKEN, in_process_graph

    env = {"REDIS_URL": f"redis://127.0.0.1:{redis_conn.free_port()}/0", "WHATSAPP_ACCESS_TOKEN": TOKEN,
           "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID, "WHATSAPP_APP_SECRET": "secret",
           "WHATSAPP_VERIFY_TOKEN": "verify", "WHATSAPP_GRAPH_URL": BASE}
    with in_process_graph() as graph:
        assert launcher.sync_profile(env, http=graph.client).startswith("Redis failed, so the outcome of the sync is not recorded")


def test_workers_runs_that_many_rasa_processes_and_a_publish_reaches_them_all(var):
    env, embedded, _ = launcher.build_environment({"WORKERS": "3"})
    embedded.stop()
    procs = processes({**env, "BIND_HOST": "127.0.0.1"}, emulator_mode=True)
    rasas = {name: cmd for name, cmd in procs.items() if "ops.rasa_server" in cmd}
    ports = [launcher.RASA_PORT + n for n in range(3)]
    assert sorted(rasas) == ["rasa", "rasa2", "rasa3"]
    for (name, cmd), port in zip(sorted(rasas.items()), ports):
        assert f"--port {port} " in cmd and f"--log-file var/{name}.log" in cmd
    from bot.content.publisher import rasa_urls

    assert rasa_urls(env) == [f"http://127.0.0.1:{port}" for port in ports]
    assert env["RASA_URL"] == f"http://127.0.0.1:{ports[0]}"  # the console's, outreach's, `make chat`'s


def test_make_run_keeps_one_rasa_process_by_default(var):
    env, embedded, _ = launcher.build_environment({})
    embedded.stop()
    procs = processes({**env, "BIND_HOST": "127.0.0.1"}, emulator_mode=True)
    assert [name for name, cmd in procs.items() if "ops.rasa_server" in cmd] == ["rasa"]
    assert env["RASA_URLS"] == env["RASA_URL"]


def test_workers_below_one_is_refused():
    with pytest.raises(ValueError, match="WORKERS"):
        launcher.rasa_ports({"WORKERS": "0"})
