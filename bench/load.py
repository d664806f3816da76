"""The load generator: customers' messages as Meta would post them (signed webhooks, one new
customer each) or as a client of Rasa's REST channel would, closed-loop or open-loop."""
from __future__ import annotations

import asyncio
import itertools
import random
import secrets
import time
from pathlib import Path
from typing import Iterator, Protocol, Sequence

import yaml
from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector

from bench.figures import Sent
from emulator.dispatch import encode, sign
from emulator.ids import new_wamid
from emulator.payloads import envelope
from emulator.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Long enough for a queue of thousands behind a slow channel; a post that takes longer is a failure.
POST_TIMEOUT = 120
# Fewer would make a p99 of nothing, at the rates a slow machine reaches.
MIN_OPEN_LOOP = 10


def faq_texts(language: str = "es") -> list[str]:
    """What customers ask: the FAQ examples in that language, from data/faq/*.yml."""
    texts = []
    for path in sorted((ROOT / "data" / "faq").glob("*.yml")):
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            if (block.get("metadata") or {}).get("language") == language:
                texts += [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
    return texts


def customers(texts: Sequence[str], seed: int = 0, per_customer: int = 1) -> Iterator[tuple[str, str]]:
    """(wa_id, text) for ever: a new customer every `per_customer` messages, with a run-unique
    number range so two runs on one Redis never share a customer."""
    shuffled = list(texts)
    random.Random(seed).shuffle(shuffled)
    prefix = f"52155{secrets.randbelow(900) + 100}"
    for n, text in zip(itertools.count(), itertools.cycle(shuffled)):
        yield f"{prefix}{n // per_customer:05d}", text


class Target(Protocol):
    async def post(self, session: ClientSession, sent: Sent) -> None: ...


class WebhookTarget:
    """Our connector: Meta's signed text-message webhook, answered 200 once stored."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings

    def body(self, sent: Sent) -> bytes:
        message = {"from": sent.wa_id, "id": sent.wamid, "timestamp": str(int(time.time())),
                   "type": "text", "text": {"body": sent.text}}
        contact = {"profile": {"name": f"Cliente {sent.wa_id[-5:]}"}, "wa_id": sent.wa_id}
        return encode(envelope(self.settings, {"contacts": [contact], "messages": [message]}))

    async def post(self, session: ClientSession, sent: Sent) -> None:
        body = self.body(sent)
        headers = {"Content-Type": "application/json",
                   "X-Hub-Signature-256": sign(body, self.settings.app_secret)}
        sent.posted = time.monotonic()
        try:
            async with session.post(self.url, data=body, headers=headers) as answer:
                await answer.read()
                sent.status = answer.status
        except (ClientError, asyncio.TimeoutError):
            sent.status = None
        sent.acked = time.monotonic()


class RestTarget:
    """Stock Rasa's REST channel: the answer carries the bot's replies."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def post(self, session: ClientSession, sent: Sent) -> None:
        sent.posted = time.monotonic()
        try:
            async with session.post(self.url, json={"sender": sent.wa_id, "message": sent.text}) as answer:
                replies = await answer.json(content_type=None) if answer.status == 200 else []
                sent.status = answer.status
                sent.replies = len(replies or [])
        except (ClientError, asyncio.TimeoutError, ValueError):
            sent.status = None
        sent.acked = time.monotonic()


def _session(connections: int) -> ClientSession:
    return ClientSession(connector=TCPConnector(limit=connections), timeout=ClientTimeout(total=POST_TIMEOUT))


def _next(source: Iterator[tuple[str, str]]) -> Sent:
    wa_id, text = next(source)
    return Sent(wa_id, new_wamid(wa_id), text, posted=0.0)


async def closed_loop(target: Target, source: Iterator[tuple[str, str]], count: int, connections: int) -> list[Sent]:
    """`count` messages over `connections` connections, each posting its next as soon as the
    previous one is answered: the fastest the receiver takes them."""
    batch = [_next(source) for _ in range(count)]
    queue = iter(batch)
    async with _session(connections) as session:
        async def worker() -> None:
            for sent in queue:
                await target.post(session, sent)
        await asyncio.gather(*(worker() for _ in range(connections)))
    return batch


async def flood(target: Target, source: Iterator[tuple[str, str]], seconds: float, connections: int) -> list[Sent]:
    """For `seconds`, every connection posts its next message as soon as the last is answered."""
    batch: list[Sent] = []
    deadline = time.monotonic() + seconds
    async with _session(connections) as session:
        async def worker() -> None:
            while time.monotonic() < deadline:
                sent = _next(source)
                batch.append(sent)
                await target.post(session, sent)
        await asyncio.gather(*(worker() for _ in range(connections)))
    return batch


async def open_loop(target: Target, source: Iterator[tuple[str, str]], per_second: float,
                    seconds: float, connections: int = 512) -> list[Sent]:
    """Messages at a fixed rate whatever the answers do (as customers write: they do not wait for
    each other), for `seconds`, or longer for at least MIN_OPEN_LOOP of them."""
    count = max(MIN_OPEN_LOOP, int(per_second * seconds))
    batch = [_next(source) for _ in range(count)]
    async with _session(connections) as session:
        started = time.monotonic()
        tasks = []
        for n, sent in enumerate(batch):
            delay = started + n / per_second - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(target.post(session, sent)))
        await asyncio.gather(*tasks)
    return batch
