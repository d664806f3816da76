"""`make run`: bring up the whole product on one machine with an embedded default for every service.

Order matters: Redis first (everyone needs it), then training (Rasa needs a model), then the
long-running processes under honcho so one Ctrl-C stops them all.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import sys
import threading
import time
from pathlib import Path

import httpx

from core.quiet import library_deprecations_off
from bot.insights.store import ENV as EVENTS_DB_ENV, prepare as prepare_events, url_from_env as events_url
from core.metrics import MULTIPROC_ENV
from core.redis_conn import EmbeddedRedis, RedisAddress, redacted
from emulator.settings import DEFAULT_WABA_ID

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
PY = sys.executable

RASA_PORT = int(os.environ.get("RASA_PORT", 5005))
WEBHOOK_PORT = int(os.environ.get("WEBHOOK_PORT", 5004))  # the ingress: Meta's webhooks
ACTIONS_PORT = int(os.environ.get("ACTIONS_PORT", 5055))
EMULATOR_PORT = int(os.environ.get("EMULATOR_PORT", 5080))
CONSOLE_PORT = int(os.environ.get("CONSOLE_PORT", 5090))


def rasa_ports(env: dict[str, str]) -> list[int]:
    """WORKERS (default 1) Rasa processes on RASA_PORT, RASA_PORT+1, …: they share Redis and take
    conversations through the inbox leases, so a webhook may be queued by any process (or the
    ingress) and answered by any other, one customer's messages still in order."""
    workers = int(env.get("WORKERS") or 1)
    if workers < 1:
        raise ValueError(f"WORKERS must be at least 1, got {workers}")
    return [RASA_PORT + number for number in range(workers)]


def _local_secrets() -> dict[str, str]:
    """Secrets for the local mode, made once and kept, so restarts keep working. A file from an
    older version gets the secrets it lacks; one left readable by others is made owner-only."""
    path = VAR / "local-secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    if stored and stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o600)
    fresh = {
        "WHATSAPP_APP_SECRET": secrets.token_hex(16),
        "WHATSAPP_VERIFY_TOKEN": secrets.token_urlsafe(12),
        "WHATSAPP_ACCESS_TOKEN": "EMULATOR-" + secrets.token_urlsafe(24),
        "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
        "RASA_TOKEN": secrets.token_urlsafe(24),
        "ACTION_SERVER_TOKEN": secrets.token_urlsafe(24),
        "REDIS_PASSWORD": secrets.token_urlsafe(24),
        "CONSOLE_SECRET_KEY": secrets.token_hex(32),
    }
    values = {**fresh, **stored}
    if values != stored:
        # Created owner-only from the start, not chmod-ed after being readable for a moment.
        draft = path.with_suffix(".new")
        draft.unlink(missing_ok=True)
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write(json.dumps(values, indent=2))
        os.replace(draft, path)
    return values


def emulator_graph(env: dict[str, str], local: dict[str, str]) -> None:
    """Point the WhatsApp settings at the local emulator, with the secrets it was started with
    (the processes of `make run`, and `python -m ops` commands beside it)."""
    for key in ("WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN",
                "WHATSAPP_PHONE_NUMBER_ID"):
        if key in local:
            env[key] = local[key]
    env["WHATSAPP_GRAPH_URL"] = f"http://127.0.0.1:{EMULATOR_PORT}"
    env.setdefault("WHATSAPP_BUSINESS_ACCOUNT_ID", DEFAULT_WABA_ID)


def build_environment(env: dict[str, str]) -> tuple[dict[str, str], EmbeddedRedis | None, bool]:
    """The environment every process gets. Returns (env, embedded redis or None, emulator mode)."""
    env = dict(env)
    # var/ holds the secrets, Redis's data, the emulator's chats and Rasa's log: owner-only.
    VAR.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(VAR, 0o700)
    local = _local_secrets()
    embedded = None
    if not env.get("REDIS_URL"):
        embedded = EmbeddedRedis(VAR / "redis", password=local["REDIS_PASSWORD"])
        env["REDIS_URL"] = embedded.start()
    address = RedisAddress.parse(env["REDIS_URL"])
    env.update(
        REDIS_HOST=address.host,
        REDIS_PORT=str(address.port),
        REDIS_DB=str(address.db),
        REDIS_PASSWORD=address.password or "",
    )

    emulator_mode = not env.get("WHATSAPP_ACCESS_TOKEN")
    if emulator_mode:
        emulator_graph(env, local)
        env.setdefault("EMULATOR_BUSINESS_NAME", "Calzado y Moda Alba")
        # Remembers who wrote when, so a second `make run` can still answer them (no 131047).
        env.setdefault("EMULATOR_STATE_DIR", str(VAR / "emulator"))
    # Rasa's event broker writes it, the console reads it: both from this one setting.
    env[EVENTS_DB_ENV] = events_url(env, VAR)
    # Tables and SQLite's WAL before Rasa's broker opens it: the console's reads then never
    # make Rasa's writes fail; an unreachable database stops the launch here, not mid-chat.
    prepare_events(env[EVENTS_DB_ENV]).dispose()
    env.setdefault("RASA_TOKEN", local["RASA_TOKEN"])
    env.setdefault("ACTION_SERVER_TOKEN", local["ACTION_SERVER_TOKEN"])
    env.setdefault("CONSOLE_SECRET_KEY", local["CONSOLE_SECRET_KEY"])
    env.setdefault("RASA_URL", f"http://127.0.0.1:{RASA_PORT}")
    # Every process a publish swaps the model on (bot/content/publisher.py); RASA_URL (the console,
    # outreach, `make chat`) is the first of them.
    env.setdefault("RASA_URLS", ",".join(f"http://127.0.0.1:{port}" for port in rasa_ports(env)))
    env.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{ACTIONS_PORT}/webhook")
    env.setdefault("CONNECTOR_WEBHOOK_URL", f"http://127.0.0.1:{WEBHOOK_PORT}/webhooks/whatsapp/webhook")
    env.setdefault("EMULATOR_PORT", str(EMULATOR_PORT))
    env.setdefault("CONSOLE_PORT", str(CONSOLE_PORT))
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Rasa's dependencies print pages of DeprecationWarnings at start-up that no user can act on.
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning,ignore::PendingDeprecationWarning")
    env.setdefault("BIND_HOST", "127.0.0.1")
    env[MULTIPROC_ENV] = str(_fresh_metrics_dir())
    env["PYTHONPATH"] = str(ROOT)
    return env, embedded, emulator_mode


def _fresh_metrics_dir() -> Path:
    """Every process's counters, summed by any /metrics (core/metrics.py). Emptied at each start:
    the last run's files would otherwise be summed into this run's totals."""
    path = VAR / "metrics"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700)
    return path


def processes(env: dict[str, str], emulator_mode: bool) -> dict[str, str]:
    """Shell commands for honcho. No secret on any of them: argv is readable by every local user
    (/proc/PID/cmdline), so tokens reach the processes through the environment only."""
    procs = {}
    for number, port in enumerate(rasa_ports(env), start=1):
        name = "rasa" if number == 1 else f"rasa{number}"
        procs[name] = (
            f"{PY} -m ops.rasa_server run --enable-api "
            f"--interface {env['BIND_HOST']} --port {port} "
            f"--credentials {'credentials.local.yml' if emulator_mode else 'credentials.yml'} "
            f"--endpoints endpoints.yml --model models "
            f"--cors '' --log-file var/{name}.log"
        )
    procs |= {
        # Stores Meta's webhooks and answers them, whatever the Rasa processes are doing.
        "ingress": f"{PY} -m connector.ingress --interface {env['BIND_HOST']} --port {WEBHOOK_PORT}",
        "actions": f"{PY} -m actions.server --interface {env['BIND_HOST']} --port {ACTIONS_PORT}",
        "console": f"{PY} -m console",
        # Trains and hot-swaps what the console's leads publish; never inside a web request.
        "publisher": f"{PY} -m bot.content.publisher",
        # Alerts and campaigns: sends what is due (connector/outreach/store.py survives restarts).
        "outreach": f"{PY} -m connector.outreach.worker",
    }
    if emulator_mode:
        procs["emulator"] = f"{PY} -m emulator"
    return procs


def main() -> int:
    from honcho.manager import Manager

    env, embedded, emulator_mode = build_environment(dict(os.environ))
    os.environ.update(env)
    library_deprecations_off()  # training runs in this process
    print(f"Redis: {redacted(env['REDIS_URL'])}{' (embedded)' if embedded else ''}", flush=True)
    print(f"Event store: {redacted(env[EVENTS_DB_ENV])}", flush=True)

    from bot.content import training

    if training.main([]) != 0:
        print("Training failed; fix the data (`make validate` explains what is wrong) and run again.")
        if embedded:
            embedded.stop()
        return 1

    from connector.policy.templates import TemplateError, TemplateRegister
    from core.redis_conn import get_redis

    try:
        count = TemplateRegister(get_redis(env["REDIS_URL"])).load_file()
    except TemplateError as exc:
        print(f"templates.yml: {exc}")
        if embedded:
            embedded.stop()
        return 1
    print(f"Templates: {count} loaded from templates.yml", flush=True)

    from console.auth.users import ensure_demo_users

    created = ensure_demo_users()
    manager = Manager()
    for name, cmd in processes(env, emulator_mode).items():
        manager.add_process(name, cmd, env=env, cwd=str(ROOT))

    threading.Thread(
        target=_announce_when_ready, args=(env, emulator_mode, created), daemon=True
    ).start()
    try:
        manager.loop()
    finally:
        if embedded:
            embedded.stop()
    return manager.returncode or 0


def sync_profile(env: dict[str, str], http: httpx.Client | None = None) -> str:
    """WhatsApp's business profile from business_profile.yml + hours.yml, once everything is up.
    A failure does not stop the start: it is recorded, and the console's Hours page shows it
    and offers to sync again (bot/profile/sync.py)."""
    import redis

    from bot.profile.sync import ProfileSync
    from core.redis_conn import get_redis

    try:
        return ProfileSync.from_env(get_redis(env["REDIS_URL"]), env=env, http=http).sync().message
    except redis.RedisError as exc:  # the banner below must still be printed
        return f"Redis failed, so the outcome of the sync is not recorded: {exc}"


def _answers(url: str, token: str) -> bool:
    try:
        return httpx.get(f"{url}/status", params={"token": token}, timeout=2).is_success
    except httpx.HTTPError:
        return False


def _announce_when_ready(env: dict[str, str], emulator_mode: bool, created: list) -> None:
    """Print where everything is once every Rasa answers, so it is not buried under start-up logs."""
    from bot.content.publisher import rasa_urls

    waiting = rasa_urls(env)
    deadline = time.monotonic() + 300
    while waiting and time.monotonic() < deadline:
        waiting = [url for url in waiting if not _answers(url, env["RASA_TOKEN"])]
        if waiting:
            time.sleep(1)
    if waiting:
        print(f"Rasa at {', '.join(waiting)} did not answer within 5 minutes; see the `rasa` lines "
              f"above and var/rasa*.log.")
        return
    print(f"Business profile: {sync_profile(env)}", flush=True)
    print("\n" + "=" * 72)
    if emulator_mode:
        print(f"Customer chat (WhatsApp emulator): http://127.0.0.1:{EMULATOR_PORT}/")
    else:
        print(f"WhatsApp webhook for Meta: https://<your-public-host>/webhooks/whatsapp/webhook "
              f"(proxied to the ingress, port {WEBHOOK_PORT})")
    print(f"Agent console:                     http://127.0.0.1:{CONSOLE_PORT}/")
    print(f"Rasa HTTP API:                     {env['RASA_URL']}  (token in var/local-secrets.json)")
    if len(rasa_ports(env)) > 1:
        print(f"Rasa processes (WORKERS):          {env['RASA_URLS']}")
    if created:
        print("Demo users created (passwords shown once; change with `python -m console create-user`):")
        for user, role, password in created:
            print(f"    {user:<8} {role:<6} {password}")
    else:
        print("Console users already exist. Forgot a password? "
              "`.venv/bin/python -m console create-user NAME --role agent --replace --generate`")
    print("Chat from the terminal: `make chat` in another terminal. Stop everything: Ctrl-C.")
    print("=" * 72 + "\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
