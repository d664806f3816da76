"""How long the desk's history search and a customer's conversation list take on a big store.

    python -m bench.history_bench [--events 100000] [--events-url sqlite:///…]

Fills a fresh SQLite event store (or the URL given, which must be empty) with Rasa-shaped
events — the JSON Rasa's SQL event broker writes: sessions, customer messages with the
connector's metadata, bot answers, handoffs with agent replies — in bulk, then times each
search once, cold, as an agent's page load would run it.
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from bot.insights.reader import EventInsights
from bot.insights.search import Query
from bot.insights.store import EVENTS

WORDS = ("hola pedido talla envio cambio tenis zapato precio tienda horario pago tarjeta "
         "devolucion garantia color negro blanco rojo descuento factura").split()
START = 1_764_547_200.0  # 2025-12-01 00:00 UTC


def events(total: int, customers: int, rng: random.Random):
    made, at = 0, START
    while made < total:
        sender = f"52155{rng.randrange(customers):08d}"
        name = f"Cliente {sender[-4:]}"
        at += rng.uniform(5, 60)
        batch = [{"event": "session_started", "timestamp": at}]
        handoff = rng.random() < 0.15
        for turn in range(rng.randint(1, 4)):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 9)))
            facts = {"conversation_id": sender, "kind": "text", "name": name, "text": text}
            batch.append({"event": "user", "text": text, "timestamp": at + turn * 30,
                          "metadata": {"whatsapp": facts}, "parse_data": {"intent": {"name": "faq"}}})
            batch.append({"event": "bot", "text": "Respuesta", "timestamp": at + turn * 30 + 1,
                          "metadata": {"utter_action": "utter_faq/x"}})
        if handoff:
            agent = rng.choice(("ana", "luis", "marta"))
            batch += [{"event": "pause", "timestamp": at + 200},
                      {"event": "bot", "text": "Te ayudo con " + rng.choice(WORDS), "timestamp": at + 260,
                       "metadata": {"agent": agent}},
                      {"event": "resume", "timestamp": at + 400}]
        for event in batch:
            yield {"sender_id": sender, "data": json.dumps({"sender_id": sender, **event})}
        made += len(batch)


def timed(label: str, run) -> None:
    started = time.perf_counter()
    result = run()
    print(f"{label:<48} {1000 * (time.perf_counter() - started):8.1f} ms  ({result})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--events-url")
    args = parser.parse_args()
    url = args.events_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'events.db'}"
    insights = EventInsights(url)
    rows = list(events(args.events, args.customers, random.Random(10)))
    with insights.engine.begin() as conn:
        conn.execute(EVENTS.insert(), rows)
    print(f"{len(rows)} events, {args.customers} customers, {url}")
    search = insights.search
    someone = rows[len(rows) // 2]["sender_id"]
    timed("text 'talla negro' (page 1)", lambda: len(search.search(Query(text="talla negro")).hits))
    timed("text 'zzz' (no match: scans everything)", lambda: len(search.search(Query(text="zzz")).hits))
    timed("text 'descuento', page after the first",
          lambda: len(search.search(Query(text="descuento"), before=search.search(Query(text="descuento")).next_before).hits))
    timed("number (last 6 digits)", lambda: len(search.search(Query(number=someone[-6:])).hits))
    timed("name 'Cliente 12'", lambda: len(search.search(Query(name="Cliente 12")).hits))
    timed("customers by name 'Cliente 12'", lambda: len(search.customers(Query(name="Cliente 12"))))
    timed("date range, one day", lambda: len(search.search(Query(since=START + 86400, until=START + 2 * 86400)).hits))
    timed("a customer's conversations", lambda: len(search.conversations(someone)))


if __name__ == "__main__":
    main()
