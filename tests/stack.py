"""Start the real processes (actions, Rasa with our channel, emulator) for end-to-end tests.

Each runs as `make run` would run it, on free ports, against the test Redis and the model
trained once per test run. Only Meta's servers are replaced, by the local emulator. With
`rasa_count` > 1 several Rasa processes share the Redis (`make run WORKERS=N`), and with
`ingress` the webhooks go to the ingress process (when this checkout has connector.ingress)
instead of the first Rasa.
"""
from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.insights.store import ENV as EVENTS_DB_ENV, default_url as events_url, prepare as prepare_events
from core.metrics import MULTIPROC_ENV
from core.redis_conn import RedisAddress, free_port

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
HAS_INGRESS = importlib.util.find_spec("connector.ingress") is not None


@dataclass
class Stack:
    redis_url: str
    model: Path | None
    log_dir: Path
    with_emulator: bool = True
    extra_env: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    procs: dict = field(default_factory=dict)
    rasa_count: int = 1
    ingress: bool = False

    def __post_init__(self) -> None:
        address = RedisAddress.parse(self.redis_url)
        self.rasa_port, self.actions_port, self.emulator_port = free_port(), free_port(), free_port()
        # name → port of every Rasa process started (or to start); "rasa" is the first.
        self.rasa_ports = {"rasa": self.rasa_port, **{f"rasa{n}": free_port() for n in range(2, self.rasa_count + 1)}}
        self.ingress = self.ingress and HAS_INGRESS
        self.ingress_port = free_port()
        webhook_port = self.ingress_port if self.ingress else self.rasa_port
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "REDIS_URL": self.redis_url,
            "REDIS_HOST": address.host,
            "REDIS_PORT": str(address.port),
            "REDIS_DB": str(address.db),
            "REDIS_PASSWORD": address.password or "",
            "RASA_TOKEN": secrets.token_urlsafe(16),
            "ACTION_SERVER_TOKEN": secrets.token_urlsafe(16),
            "RASA_URL": f"http://127.0.0.1:{self.rasa_port}",
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "WHATSAPP_APP_SECRET": secrets.token_hex(16),
            "WHATSAPP_VERIFY_TOKEN": "verify-" + secrets.token_hex(4),
            "WHATSAPP_ACCESS_TOKEN": "EMULATOR-" + secrets.token_hex(8),
            "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
            "WHATSAPP_API_VERSION": "v23.0",
            "WHATSAPP_GRAPH_URL": f"http://127.0.0.1:{self.emulator_port}",
            "RASA_URLS": ",".join(f"http://127.0.0.1:{port}" for port in self.rasa_ports.values()),
            "CONNECTOR_WEBHOOK_URL": f"http://127.0.0.1:{webhook_port}/webhooks/whatsapp/webhook",
            "EMULATOR_PORT": str(self.emulator_port),
            # As ops/launcher.py: Rasa's event broker writes where the insights read.
            EVENTS_DB_ENV: events_url(self.log_dir),
            # As ops/launcher.py: every process counts into one directory, any /metrics sums it.
            MULTIPROC_ENV: str(self.log_dir / "metrics"),
            **self.extra_env,
        }

    @property
    def rasa_url(self) -> str:
        return self.env["RASA_URL"]

    @property
    def emulator_url(self) -> str:
        return self.env["WHATSAPP_GRAPH_URL"]

    @property
    def webhook_url(self) -> str:
        return self.env["CONNECTOR_WEBHOOK_URL"]

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def url_of(self, rasa: str) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[rasa]}"

    @property
    def webhook_receiver(self) -> str:
        """The process the emulator's webhooks reach: "ingress", or the first Rasa."""
        return "ingress" if self.ingress else "rasa"

    def commands(self) -> dict[str, list[str]]:
        """The argv of each process, as ops/launcher.py builds them; secrets go by environment."""
        commands = {
            "emulator": [PY, "-m", "emulator"],
            "actions": [PY, "-m", "actions.server", "--interface", "127.0.0.1", "--port", str(self.actions_port)],
            "publisher": [PY, "-m", "bot.content.publisher"],
            "ingress": [PY, "-m", "connector.ingress", "--interface", "127.0.0.1", "--port", str(self.ingress_port)],
        }
        for name, port in self.rasa_ports.items():
            commands[name] = [
                PY, "-m", "ops.rasa_server", "run", "--enable-api",
                "--port", str(port), "--credentials", "credentials.local.yml",
                "--endpoints", "endpoints.yml", "--model", str(self.model),
            ]
        return commands

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.log_dir / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def _wait(self, name: str, url: str, timeout: float, ok=lambda r: r.status_code == 200) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited; see {self.log_dir / (name + '.log')}")
            try:
                if ok(httpx.get(url, timeout=2)):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{name} did not come up in {timeout}s; see {self.log_dir / (name + '.log')}")

    def _wait_worker(self, timeout: float) -> None:
        """The publisher has no HTTP port; it is up once its heartbeat is in Redis."""
        from bot.content.publish_store import WORKER
        from core.redis_conn import get_redis

        client = get_redis(self.redis_url)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.procs["publisher"].poll() is not None:
                    raise RuntimeError(f"publisher exited; see {self.log_dir / 'publisher.log'}")
                if client.exists(WORKER):
                    return
                time.sleep(0.5)
        finally:
            client.close()
        raise RuntimeError(f"publisher did not come up in {timeout}s; see {self.log_dir / 'publisher.log'}")

    def _wait_rasa(self, name: str) -> None:
        self._wait(name, f"{self.url_of(name)}/status?token={self.env['RASA_TOKEN']}", 180,
                   ok=lambda r: r.status_code == 200 and r.json().get("model_file"))

    def start(self, only: tuple[str, ...] = ("emulator", "actions", "rasa")) -> "Stack":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        Path(self.env[MULTIPROC_ENV]).mkdir(exist_ok=True)
        prepare_events(self.env[EVENTS_DB_ENV]).dispose()  # as ops/launcher.py does
        names = [n for n in only if n != "emulator" or self.with_emulator]
        if "rasa" in names:  # all of them, loading side by side
            names[names.index("rasa"):names.index("rasa") + 1] = list(self.rasa_ports)
        if self.ingress and "ingress" not in names:
            names.insert(0, "ingress")
        commands = self.commands()
        for name in names:
            self._spawn(name, commands[name])
        ready = {
            "emulator": lambda: self._wait("emulator", f"{self.emulator_url}/_emulator/health", 30),
            "actions": lambda: self._wait("actions", f"{self.actions_url}/health", 90),
            "publisher": lambda: self._wait_worker(180),
            "ingress": lambda: self._wait("ingress", f"http://127.0.0.1:{self.ingress_port}/health", 60),
            **{name: (lambda name=name: self._wait_rasa(name)) for name in self.rasa_ports},
        }
        try:
            for name in names:
                ready[name]()
        except BaseException:
            # The fixture never gets the stack to stop: what did come up must not keep running.
            self.stop()
            raise
        return self

    def add_rasa(self) -> str:
        """One more Rasa process on the same Redis (a rolling restart's new one), once it is up."""
        name = f"rasa{len(self.rasa_ports) + 1}"
        self.rasa_ports[name] = free_port()
        self._spawn(name, self.commands()[name])
        try:
            self._wait_rasa(name)
        except BaseException:
            self.procs[name].kill()
            raise
        return name

    def end(self, name: str, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        """Stop one process (SIGTERM: as a deployment stops it; SIGKILL: it dies) and reap it."""
        proc = self.procs[name]
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def live_rasas(self) -> list[str]:
        return [name for name in self.rasa_ports if name in self.procs and self.procs[name].poll() is None]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
