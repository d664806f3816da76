"""What Redis's `appendfsync always` costs against `everysec`, both in the same run.

    python -m bench.durability_bench [--messages 1500] [--rounds 4] [--threads 6]   (make bench-durability)

Two embedded Redis servers (core/redis_conn.py, appendonly yes), one per setting, their data on
var/ (the disk `make run` uses). Against each, in alternating rounds so drift on a shared machine
hits both alike:
  * ingest: signed webhooks, one new customer each, through the real handler of Meta's webhook
    (WebhookEndpoint.handle: signature, parsing, connector/webhook/intake.py into
    connector/inbox/queue.py), from as many threads as Sanic's route hands it to (asyncio's
    default executor); an ack is the handler's 200. No worker drains the queue: this is intake.
  * raw: SET of 200 bytes from the same number of threads, the floor Redis itself sets.
Prints acks/s with p50/p99 per ack, and Redis ops/s with p99, side by side; JSON to --json.
Never asserts a time: on a shared machine the figures are noisy, the ratio less so.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from core.quiet import library_deprecations_off
from core.redis_conn import APPENDFSYNC_MODES, EmbeddedRedis, free_port, get_redis
from connector.webhook.endpoint import WebhookEndpoint
from connector.cloudapi.config import WhatsAppConfig
from connector.webhook import signature

ROOT = Path(__file__).resolve().parents[1]
PHONE_NUMBER_ID = "106540352242922"
# asyncio.to_thread's pool, where the webhook route runs the handler: min(32, cores + 4).
DEFAULT_THREADS = min(32, (os.cpu_count() or 1) + 4)


def _webhook(wa_id: str, wamid: str) -> bytes:
    """One customer's text message, shaped as Meta sends it."""
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": "cuanto cuesta el envio"}}],
        }}]}]}).encode()


def _handler(redis_url: str, app_secret: str):
    config = WhatsAppConfig(verify_token="bench", app_secret=app_secret, access_token="BENCH",
                            phone_number_id=PHONE_NUMBER_ID, graph_url="http://127.0.0.1:9")
    return WebhookEndpoint(config, get_redis(redis_url, socket_timeout=10)).handle


def _timed(calls, threads: int) -> tuple[float, list[float]]:
    """Runs every call from `threads` threads: (seconds for all, seconds of each)."""
    def one(call) -> float:
        start = time.perf_counter()
        call()
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        each = list(pool.map(one, calls))
    return time.perf_counter() - start, each


def _ingest_round(handle, app_secret: str, count: int, threads: int) -> tuple[float, list[float]]:
    bodies = [_webhook(f"549{uuid.uuid4().int % 10**10:010d}", f"wamid.{uuid.uuid4().hex}") for _ in range(count)]
    signed = [(body, signature.sign(body, app_secret)) for body in bodies]

    def call(body: bytes, header: str):
        def post() -> None:
            answer = handle(body, header)
            if answer.status != 200 or answer.queued != 1:
                raise RuntimeError(f"the webhook was not stored: {answer}")
        return post

    return _timed([call(body, header) for body, header in signed], threads)


def _raw_round(redis_url: str, count: int, threads: int) -> tuple[float, list[float]]:
    client = get_redis(redis_url, max_connections=threads + 2)
    value = secrets.token_hex(100)
    keys = [f"bench:raw:{uuid.uuid4().hex}" for _ in range(count)]
    return _timed([lambda key=key: client.set(key, value) for key in keys], threads)


def _summary(seconds: float, each: list[float]) -> dict[str, float]:
    return {"per_s": len(each) / seconds, "p50_ms": float(np.percentile(each, 50) * 1000),
            "p99_ms": float(np.percentile(each, 99) * 1000)}


def _pooled(rounds: list[tuple[float, list[float]]]) -> dict[str, float]:
    return _summary(sum(s for s, _ in rounds), [t for _, each in rounds for t in each])


def bench(messages: int, rounds: int, threads: int, var: Path) -> dict:
    var.mkdir(mode=0o700, parents=True, exist_ok=True)
    app_secret = secrets.token_hex(16)
    base = Path(tempfile.mkdtemp(prefix="durability-", dir=var))
    servers = {mode: EmbeddedRedis(base / mode, port=free_port(), password=secrets.token_hex(12), appendfsync=mode)
               for mode in APPENDFSYNC_MODES}
    try:
        urls = {mode: server.start() for mode, server in servers.items()}
        handlers = {mode: _handler(url, app_secret) for mode, url in urls.items()}
        for mode in APPENDFSYNC_MODES:  # warm: connections, imports, Lua scripts loaded
            _ingest_round(handlers[mode], app_secret, 50, threads)
            _raw_round(urls[mode], 200, threads)
        ingest = {mode: [] for mode in APPENDFSYNC_MODES}
        raw = {mode: [] for mode in APPENDFSYNC_MODES}
        for _ in range(rounds):
            for mode in APPENDFSYNC_MODES:
                ingest[mode].append(_ingest_round(handlers[mode], app_secret, messages // rounds, threads))
                raw[mode].append(_raw_round(urls[mode], 4 * messages // rounds, threads))
        return {"threads": threads, "messages": messages, "rounds": rounds, "data_dir": str(base),
                "modes": {mode: {"ingest": _pooled(ingest[mode]), "raw_set": _pooled(raw[mode])}
                          for mode in APPENDFSYNC_MODES}}
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


def table(figures: dict) -> str:
    rows = [
        "| appendfsync | webhook acks/s | ack p50 ms | ack p99 ms | Redis SET ops/s | SET p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for mode, f in figures["modes"].items():
        i, r = f["ingest"], f["raw_set"]
        rows.append(f"| {mode} | {i['per_s']:.0f} | {i['p50_ms']:.1f} | {i['p99_ms']:.1f} "
                    f"| {r['per_s']:.0f} | {r['p99_ms']:.2f} |")
    first, second = (figures["modes"][m] for m in APPENDFSYNC_MODES)
    rows.append(f"| {APPENDFSYNC_MODES[1]} / {APPENDFSYNC_MODES[0]} "
                f"| {second['ingest']['per_s'] / first['ingest']['per_s']:.2f}× "
                f"| | {second['ingest']['p99_ms'] / first['ingest']['p99_ms']:.2f}× "
                f"| {second['raw_set']['per_s'] / first['raw_set']['per_s']:.2f}× | |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1500, help="webhooks per setting")
    parser.add_argument("--rounds", type=int, default=4, help="alternations between the two settings")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="webhooks in flight")
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "durability_bench.json")
    args = parser.parse_args(argv)
    library_deprecations_off()
    figures = bench(args.messages, args.rounds, args.threads, ROOT / "var")
    print(f"{args.messages} signed webhooks and {4 * args.messages} SETs per setting, {args.threads} in flight, "
          f"{args.rounds} alternating rounds, data on {Path(figures['data_dir']).parent}; "
          f"{os.cpu_count()} cores, shared: noisy, compare the rows, not other runs")
    print(table(figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
