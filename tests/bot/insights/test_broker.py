"""bot/insights/broker.py: the rows Rasa's SQL broker would write, without a disk sync per event."""
from __future__ import annotations

import sqlite3

from rasa.core.brokers.sql import SQLEventBroker

from bot.insights.broker import EventStoreBroker
from bot.insights.store import prepare

EVENTS = [{"sender_id": "34600", "event": "user", "text": "hola", "timestamp": 1.5},
          {"sender_id": "34600", "event": "bot", "text": "¡Hola! 👋", "timestamp": 2.0},
          {"sender_id": None, "event": "action", "name": "action_listen"}]


def _rows(path) -> list[tuple]:
    return sqlite3.connect(path).execute("SELECT id, sender_id, data FROM events ORDER BY id").fetchall()


def test_the_event_store_broker_writes_what_rasas_broker_writes(tmp_path):
    ours, rasas = tmp_path / "ours.db", tmp_path / "rasa.db"
    for path in (ours, rasas):
        prepare(f"sqlite:///{path}").dispose()
    broker, reference = EventStoreBroker(host=f"sqlite:///{ours}"), SQLEventBroker(host=f"sqlite:///{rasas}")
    for event in EVENTS:
        broker.publish(event)
        reference.publish(event)
    assert _rows(ours) == _rows(rasas) and len(_rows(ours)) == 3


def test_sqlite_commits_are_not_synced_one_by_one_but_stay_in_wal(tmp_path):
    path = tmp_path / "events.db"
    prepare(f"sqlite:///{path}").dispose()
    broker = EventStoreBroker(host=f"sqlite:///{path}")
    broker.publish(EVENTS[0])
    with broker.engine.connect() as connection:
        # 1 = NORMAL; in WAL mode a commit is atomic and survives any process's crash.
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    # Another reader (the console) sees the event at once.
    assert len(_rows(path)) == 1
