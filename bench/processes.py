"""The two sides of the throughput benchmark as real processes: this product (embedded Redis,
action server, Rasa with our channel and trained model, the ingress when the tree has one, and
the Graph stand-in in place of Meta) and stock Rasa 3.6 (`rasa init --no-prompt`, REST channel).
Also their memory: RSS summed over every process of a side, sampled while the load runs."""
from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bot.insights.store import ENV as EVENTS_DB_ENV, default_url as events_url, prepare as prepare_events
from core.redis_conn import EmbeddedRedis, RedisAddress, free_port
from emulator.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
# The stock assistant, trained once: `rasa init` takes minutes, its result does not change.
STOCK_DIR = ROOT / "var" / "bench" / "stock-rasa"
WEBHOOK_PATH = "/webhooks/whatsapp/webhook"
# Where Meta's webhooks go: the ingress process when this tree has one, else Rasa's channel route.
HAS_INGRESS = importlib.util.find_spec("connector.ingress") is not None


@dataclass
class Side:
    """Processes started for one side; `stop()` ends exactly those."""
    log_dir: Path
    env: dict = field(default_factory=dict)
    procs: dict = field(default_factory=dict)

    def spawn(self, name: str, args: list[str], cwd: Path = ROOT) -> None:
        log = open(self.log_dir / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen(args, cwd=cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def wait(self, name: str, url: str, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited; see {self.log_dir / (name + '.log')}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{name} did not come up in {timeout}s; see {self.log_dir / (name + '.log')}")

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.procs.items() if p.poll() is None}

    def stop(self) -> None:
        running = [p for p in self.procs.values() if p.poll() is None]
        for proc in running:
            proc.terminate()
        deadline = time.monotonic() + 15  # for all of them together, not each
        for proc in running:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()


class Ours(Side):
    """`make run`'s processes on free ports, with the stand-in as the Graph API."""

    def __init__(self, log_dir: Path, model: Path, latency_ms: float = 0.0, workers: int | None = None,
                 rasa_processes: int = 1) -> None:
        super().__init__(log_dir)
        self.model = model
        self.latency_ms = latency_ms
        self.workers = workers  # the channel's conversation workers (WA_WORKERS); None: its default
        self.rasa_processes = rasa_processes  # as `make run WORKERS=N`: all take from the same Redis
        self.redis = EmbeddedRedis(log_dir / "redis", port=free_port())
        self.rasa_port, self.actions_port, self.standin_port, self.ingress_port = (
            free_port(), free_port(), free_port(), free_port())
        self.settings = Settings(app_secret=secrets.token_hex(16), access_token="BENCH-" + secrets.token_hex(8))

    @property
    def webhook_url(self) -> str:
        port = self.ingress_port if HAS_INGRESS else self.rasa_port
        return f"http://127.0.0.1:{port}{WEBHOOK_PATH}"

    @property
    def standin_url(self) -> str:
        return f"http://127.0.0.1:{self.standin_port}"

    def start(self) -> "Ours":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        redis_url = self.redis.start()
        address = RedisAddress.parse(redis_url)
        s = self.settings
        self.env = {
            **os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::PendingDeprecationWarning",
            "REDIS_URL": redis_url, "REDIS_HOST": address.host, "REDIS_PORT": str(address.port),
            "REDIS_DB": str(address.db), "REDIS_PASSWORD": address.password or "",
            "RASA_TOKEN": secrets.token_urlsafe(16), "ACTION_SERVER_TOKEN": secrets.token_urlsafe(16),
            "RASA_URL": f"http://127.0.0.1:{self.rasa_port}",
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "WHATSAPP_APP_SECRET": s.app_secret, "WHATSAPP_VERIFY_TOKEN": "verify-" + secrets.token_hex(4),
            "WHATSAPP_ACCESS_TOKEN": s.access_token, "WHATSAPP_PHONE_NUMBER_ID": s.phone_number_id,
            "WHATSAPP_API_VERSION": s.api_version, "WHATSAPP_GRAPH_URL": self.standin_url,
            "CONNECTOR_WEBHOOK_URL": self.webhook_url, "WEBHOOK_PORT": str(self.ingress_port),
            EVENTS_DB_ENV: events_url(self.log_dir),
        }
        if self.workers:
            self.env["WA_WORKERS"] = str(self.workers)
        prepare_events(self.env[EVENTS_DB_ENV]).dispose()  # as ops/launcher.py does
        self.spawn("standin", [PY, "-m", "bench.graph_standin", "--port", str(self.standin_port),
                               "--webhook-url", self.webhook_url, "--latency-ms", str(self.latency_ms)])
        self.spawn("actions", [PY, "-m", "actions.server", "--interface", "127.0.0.1", "--port", str(self.actions_port)])
        extra_ports = [free_port() for _ in range(self.rasa_processes - 1)]
        for name, port in [("rasa", self.rasa_port), *((f"rasa{n}", p) for n, p in enumerate(extra_ports, start=2))]:
            self.spawn(name, [PY, "-m", "ops.rasa_server", "run", "--enable-api", "--port", str(port),
                              "--credentials", "credentials.local.yml", "--endpoints", "endpoints.yml",
                              "--model", str(self.model)])
        self._extra_rasa = {f"rasa{n}": p for n, p in enumerate(extra_ports, start=2)}
        if HAS_INGRESS:
            self.spawn("ingress", [PY, "-m", "connector.ingress", "--port", str(self.ingress_port)])
        try:
            self.wait("standin", f"{self.standin_url}/_standin/health", 30)
            self.wait("actions", f"http://127.0.0.1:{self.actions_port}/health", 120)
            self.wait("rasa", f"{self.env['RASA_URL']}/webhooks/whatsapp/health")
            for name, port in self._extra_rasa.items():
                self.wait(name, f"http://127.0.0.1:{port}/webhooks/whatsapp/health")
            if HAS_INGRESS:
                self.wait("ingress", f"http://127.0.0.1:{self.ingress_port}/health", 60)
        except BaseException:
            self.stop()
            raise
        return self

    def pids(self) -> dict[str, int]:
        pids = {name: pid for name, pid in super().pids().items() if name != "standin"}  # Meta's, not ours
        if self.redis.process is not None:
            pids["redis"] = self.redis.process.pid
        return pids

    def stop(self) -> None:
        super().stop()
        self.redis.stop()


def stock_model() -> Path:
    """The `rasa init --no-prompt` assistant with its default config, trained once and cached."""
    models = sorted((STOCK_DIR / "models").glob("*.tar.gz"))
    if models:
        return models[-1]
    shutil.rmtree(STOCK_DIR, ignore_errors=True)
    STOCK_DIR.mkdir(parents=True)
    print("Training stock Rasa's `rasa init` assistant once (cached in var/bench/; minutes)…", flush=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    with open(STOCK_DIR.parent / "stock-init.log", "wb") as log:
        subprocess.run([PY, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(STOCK_DIR)], cwd=STOCK_DIR,
                       env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=True)
    return sorted((STOCK_DIR / "models").glob("*.tar.gz"))[-1]


class Stock(Side):
    """Stock Rasa 3.6 as a team would deploy it from `rasa init`: `rasa run`, REST channel,
    in-memory tracker store, no action server (the init assistant has no custom action)."""

    def __init__(self, log_dir: Path, model: Path) -> None:
        super().__init__(log_dir)
        self.model = model
        self.port = free_port()

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/rest/webhook"

    def launch(self) -> "Stock":
        """Starts `rasa run` without waiting: its models load while the other side is measured."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.spawn("rasa", [PY, "-m", "rasa", "run", "--port", str(self.port), "--model", str(self.model),
                            "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"], cwd=STOCK_DIR)
        return self

    def ready(self) -> "Stock":
        # Loading TensorFlow and the DIET/TED models takes minutes on a busy machine.
        self.wait("rasa", f"http://127.0.0.1:{self.port}/", 1200)
        return self


class MemorySampler:
    """The highest RSS summed over a side's processes (and their children), sampled twice a second."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> dict[str, float]:
        mb = {}
        for name, pid in self.pids.items():
            try:
                root = psutil.Process(pid)
                tree = [root, *root.children(recursive=True)]
                mb[name] = sum(p.memory_info().rss for p in tree) / 2 ** 20
            except psutil.NoSuchProcess:
                mb[name] = 0.0
        return mb

    def _run(self) -> None:
        while True:
            now = self.sample()
            if sum(now.values()) > sum(self.peak.values()):
                self.peak = now
            if self._stop.wait(0.5):
                return

    @property
    def total_mb(self) -> float:
        return round(sum(self.peak.values()), 1)
