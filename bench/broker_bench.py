"""What Rasa's SQL event broker costs per message: the agent with and without it, same run.

    python -m bench.broker_bench [--messages 300] [--events-url postgresql://…]   (make bench-broker)

"turn" is the whole message (until Rasa has saved the tracker and released the conversation's
lock: the next message of that customer waits for it); "first reply" is when the first answer
left for the channel. Rasa's agent, in this process, with the trained model (models/, trained if stale), the Redis
tracker store of endpoints.yml (an embedded Redis) and the real action server; one agent with
no broker (the baseline), one with Rasa's SQLEventBroker on a fresh SQLite file (or the URL
given). Rounds alternate between the two so drift on a shared machine hits both alike.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from core.quiet import library_deprecations_off
from core.redis_conn import EmbeddedRedis, RedisAddress, free_port

ROOT = Path(__file__).resolve().parents[1]
# Typed FAQ questions, a greeting and misses: the kinds of turn customers send.
TEXTS = ["cuanto cuesta el envio", "a que hora abren", "hola", "como hago una devolucion",
         "do you ship to the us", "xkq zzv wpl", "aceptan tarjeta de credito", "donde estan sus tiendas"]


def _action_server(redis_url: str, token: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "ACTION_SERVER_TOKEN": token, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, f"{url}/webhook"
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("the action server did not start")


def _agent(model: Path, redis_url: str, actions_url: str, token: str, broker):
    from rasa.core.agent import Agent
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.tracker_store import RedisTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import EndpointConfig

    address = RedisAddress.parse(redis_url)
    store = RedisTrackerStore(Domain.empty(), host=address.host, port=address.port, db=address.db,
                              password=address.password, key_prefix="rasa", event_broker=broker)
    return Agent.load(str(model), tracker_store=store, lock_store=InMemoryLockStore(),
                      action_endpoint=EndpointConfig(actions_url, token=token))


def _channel():
    """Records when the first reply left: a channel sends replies as actions run, before Rasa
    saves the tracker (and so before the broker writes)."""
    from rasa.core.channels.channel import CollectingOutputChannel

    class Timing(CollectingOutputChannel):
        first_reply_at: float | None = None

        async def _persist_message(self, message) -> None:
            if self.first_reply_at is None:
                self.first_reply_at = time.perf_counter()
            await super()._persist_message(message)

    return Timing()


async def _run(agent, prefix: str, count: int, turns: list[float], replies: list[float]) -> None:
    from rasa.core.channels.channel import UserMessage

    for _ in range(count):
        # A conversation of eight turns each, as a customer would send them.
        sender = f"{prefix}-{len(turns) // len(TEXTS)}"
        channel = _channel()
        started = time.perf_counter()
        await agent.handle_message(UserMessage(TEXTS[len(turns) % len(TEXTS)], channel, sender))
        turns.append(time.perf_counter() - started)
        replies.append((channel.first_reply_at or time.perf_counter()) - started)


def _summary(timings: list[float]) -> dict[str, float]:
    ms = np.array(timings) * 1000
    return {"median_ms": round(float(np.median(ms)), 2), "p90_ms": round(float(np.percentile(ms, 90)), 2),
            "mean_ms": round(float(ms.mean()), 2)}


def _difference(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: round(b[k] - a[k], 2) for k in a}


async def bench(model: Path, redis_url: str, events_url: str, messages: int, rounds: int) -> dict:
    from rasa.core.brokers.sql import SQLEventBroker

    token = secrets.token_urlsafe(16)
    proc, actions_url = _action_server(redis_url, token)
    try:
        broker = SQLEventBroker(host=events_url)
        agents = {"no broker": _agent(model, redis_url, actions_url, token, None),
                  "SQL broker": _agent(model, redis_url, actions_url, token, broker)}
        turns: dict[str, list[float]] = {name: [] for name in agents}
        replies: dict[str, list[float]] = {name: [] for name in agents}
        for name, agent in agents.items():  # warm-up: first-call costs are not the broker's
            await agent.handle_text("hola", sender_id=f"warm-{name}")
        for _ in range(rounds):
            for name, agent in agents.items():
                await _run(agent, name.replace(" ", "-"), messages // rounds, turns[name], replies[name])
        with broker.sessionmaker() as session:
            rows = session.query(SQLEventBroker.SQLBrokerEvent).count()
    finally:
        proc.terminate()
        proc.wait(10)
    figures = {f"turn, {name}": _summary(t) for name, t in turns.items()}
    figures.update({f"first reply, {name}": _summary(t) for name, t in replies.items()})
    for what in ("turn", "first reply"):
        figures[f"{what}, broker cost"] = _difference(figures[f"{what}, no broker"], figures[f"{what}, SQL broker"])
    figures["events written per message"] = round(rows / (len(turns["SQL broker"]) + 1), 1)
    figures["messages per agent"] = len(turns["SQL broker"])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=320, help="messages per agent")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--model", type=Path, help="a trained model (default: models/, trained if stale)")
    parser.add_argument("--events-url", help="the broker's database (default: a fresh SQLite file)")
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "broker_bench.json")
    args = parser.parse_args(argv)

    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    library_deprecations_off()
    from bot.content import training

    training._quiet_rasa()
    model = args.model or training.train().model_path
    with tempfile.TemporaryDirectory(prefix="broker-bench-") as tmp:
        redis = EmbeddedRedis(Path(tmp) / "redis", port=free_port())
        try:
            events_url = args.events_url or f"sqlite:///{Path(tmp) / 'events.db'}"
            figures = asyncio.run(bench(model, redis.start(), events_url, args.messages, args.rounds))
        finally:
            redis.stop()
    print(f"{'ms per message':32}{'median':>10}{'p90':>10}{'mean':>10}")
    for what in ("turn", "first reply"):
        for name in ("no broker", "SQL broker", "broker cost"):
            row = figures[f"{what}, {name}"]
            print(f"{what + ', ' + name:32}{row['median_ms']:>10.2f}{row['p90_ms']:>10.2f}{row['mean_ms']:>10.2f}")
    print(f"events written per message: {figures['events written per message']}  "
          f"({figures['messages per agent']} messages per agent)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
