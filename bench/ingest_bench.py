"""The ingress alone: how many webhooks (customers' messages, then Meta's status webhooks) it
acknowledges per second with nothing else on the machine but Redis and the load generator,
beside what the same Sanic process answers on its `/health` route (no signature, no parsing, no
Redis) under the same load, in one run.

    python -m bench.ingest_bench [--seconds S] [--connections N]

The baseline says how much of the ceiling is the web server and the load generator rather than
the webhook's own work. CPU shares (of one core) of the ingress, the load generator (this
process) and Redis are printed for each side: on a two-core machine they show which one runs out.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import psutil
from aiohttp import ClientError, ClientSession

from bench import figures
from bench.load import WebhookTarget, customers, faq_texts, flood
from bench.processes import ROOT, WEBHOOK_PATH, Side
from core.redis_conn import EmbeddedRedis, free_port
from emulator.dispatch import encode
from emulator.payloads import status_payload
from emulator.settings import Settings


class StatusTarget(WebhookTarget):
    """Meta's "delivered" status webhook for a message we sent: three of these come back for
    every message the product sends, most of what an ingress receives."""

    def body(self, sent: figures.Sent) -> bytes:
        message = {"id": f"wamid.OUT{sent.wamid}", "wa_id": sent.wa_id, "user_id": None,
                   "category": "service", "timestamp": int(time.time())}
        return encode(status_payload(self.settings, message, "delivered", time.time(), None))


class HealthTarget:
    """The ingress's `/health`: the web server's own cost per request."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def post(self, session: ClientSession, sent: figures.Sent) -> None:
        sent.posted = time.monotonic()
        try:
            async with session.get(self.url) as answer:
                await answer.read()
                sent.status = answer.status
        except (ClientError, asyncio.TimeoutError):
            sent.status = None
        sent.acked = time.monotonic()


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _side(name: str, target, seconds: float, connections: int, ingress: psutil.Process,
          redis: psutil.Process) -> dict:
    source = customers(faq_texts())
    asyncio.run(flood(target, source, 1.0, connections))  # connections, caches
    before = (_cpu(ingress), time.process_time(), _cpu(redis), time.monotonic())
    sent = asyncio.run(flood(target, source, seconds, connections))
    spent = time.monotonic() - before[3]
    shares = [(_cpu(ingress) - before[0]) / spent, (time.process_time() - before[1]) / spent,
              (_cpu(redis) - before[2]) / spent]
    return {"side": name, "acks_per_s": figures.ack_rate(sent), "ack": figures.summary_ms(figures.acks(sent)),
            "refused": sum(not s.accepted for s in sent),
            "cpu_share": {"ingress": round(shares[0], 2), "load_generator": round(shares[1], 2),
                          "redis": round(shares[2], 2)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--json", default=str(ROOT / "results" / "ingest.json"))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    embedded = EmbeddedRedis(work / "redis", port=free_port())
    redis_url = embedded.start()
    settings = Settings(app_secret=secrets.token_hex(16), access_token="BENCH-" + secrets.token_hex(8))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": redis_url,
           "WHATSAPP_APP_SECRET": settings.app_secret, "WHATSAPP_VERIFY_TOKEN": "verify",
           "WHATSAPP_ACCESS_TOKEN": settings.access_token, "WHATSAPP_PHONE_NUMBER_ID": settings.phone_number_id,
           "WHATSAPP_API_VERSION": settings.api_version, "WHATSAPP_GRAPH_URL": "http://127.0.0.1:9"}
    ingress = Side(work, env)
    ingress.spawn("ingress", [sys.executable, "-m", "connector.ingress", "--port", str(port)])
    try:
        base = f"http://127.0.0.1:{port}"
        ingress.wait("ingress", f"{base}/health", timeout=60)
        process = psutil.Process(ingress.pids()["ingress"])
        redis_process = psutil.Process(embedded.process.pid)
        sides = [
            _side("webhooks (signed, parsed, stored)",
                  WebhookTarget(base + WEBHOOK_PATH, settings), args.seconds, args.connections,
                  process, redis_process),
            _side("status webhooks (delivered)", StatusTarget(base + WEBHOOK_PATH, settings),
                  args.seconds, args.connections, process, redis_process),
            _side("baseline: GET /health, same process", HealthTarget(f"{base}/health"), args.seconds,
                  args.connections, process, redis_process),
        ]
    finally:
        ingress.stop()
        embedded.stop()
    print(f"{args.seconds:.0f} s per side, {args.connections} connections, {os.cpu_count()} CPUs, "
          f"load average at the end {os.getloadavg()[0]:.2f}\n")
    print("| side | acks/s | ack p50 / p99 | refused | CPU: ingress / load generator / Redis |\n|---|---|---|---|---|")
    for side in sides:
        share = side["cpu_share"]
        print(f"| {side['side']} | {side['acks_per_s']} | {side['ack']['p50_ms']} / {side['ack']['p99_ms']} ms | "
              f"{side['refused']} | {share['ingress']:.0%} / {share['load_generator']:.0%} / {share['redis']:.0%} |")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "sides": sides}, indent=2))
    print(f"\nJSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
