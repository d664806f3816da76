"""CPU per Cloud API send: httpx's client and transport (what the sender used before) against
ours (connector/cloudapi/transport.py, what it uses now) and aiohttp alone, in one run, against
one local server in another process.

    python -m bench.send_bench [--requests N]

Prints CPU microseconds per POST of this process (time.process_time), and wall time; the
server's CPU is not counted. Figures from a busy machine are noisy: compare within one run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

import aiohttp
import httpx

from bench.processes import Side
from core.redis_conn import free_port
from connector.cloudapi.transport import AiohttpTransport

BODY = {"messaging_product": "whatsapp", "to": "5215512345678", "type": "text",
        "text": {"body": "Nuestros envíos llegan en 3 a 5 días hábiles."}}
HEADERS = {"Authorization": "Bearer token"}
SERVER = """
import sys
from aiohttp import web
async def messages(request):
    await request.read()
    return web.json_response({"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}]})
app = web.Application()
app.router.add_post("/v23.0/1/messages", messages)
app.router.add_get("/health", lambda request: web.json_response({"status": "ok"}))
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


async def _httpx(url: str, count: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(count):
            (await client.post(url, json=BODY, headers=HEADERS)).json()


async def _direct(url: str, count: int) -> None:
    wire = AiohttpTransport()
    try:
        for _ in range(count):
            (await wire.post_json(url, BODY, HEADERS, httpx.Timeout(15.0))).json()
    finally:
        await wire.aclose()


async def _aiohttp(url: str, count: int) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(count):
            async with session.post(url, data=json.dumps(BODY), headers={**HEADERS, "Content-Type": "application/json"}) as answer:
                await answer.json()


def _measure(run: Callable[[int], Awaitable[None]], count: int) -> tuple[float, float]:
    asyncio.run(run(50))  # connections, imports, caches
    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(run(count))
    return (time.process_time() - cpu) / count * 1e6, (time.perf_counter() - wall) / count * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500)
    args = parser.parse_args(argv)
    port = free_port()
    server = Side(Path(tempfile.mkdtemp(prefix="send-bench-")))
    server.spawn("server", [sys.executable, "-c", SERVER, str(port)])
    try:
        server.wait("server", f"http://127.0.0.1:{port}/health", timeout=30)
        url = f"http://127.0.0.1:{port}/v23.0/1/messages"
        sides = {
            "httpx, its client and transport (before)": lambda n: _httpx(url, n),
            "our transport's post_json (what the sender uses)": lambda n: _direct(url, n),
            "aiohttp alone (floor)": lambda n: _aiohttp(url, n),
        }
        print(f"{args.requests} sequential POSTs per side to a local server\n")
        print("| client | CPU µs per send | wall µs per send |\n|---|---|---|")
        for name, run in sides.items():
            cpu, wall = _measure(run, args.requests)
            print(f"| {name} | {cpu:,.0f} | {wall:,.0f} |")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
