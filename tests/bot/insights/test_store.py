"""The event store's setup: Rasa's broker keeps writing while the console reads."""
from __future__ import annotations

import sqlite3

from rasa.core.brokers.sql import SQLEventBroker

from bot.insights.store import prepare

from .recorder import sqlite_url


def test_a_console_read_in_progress_does_not_block_rasas_broker(tmp_path):
    url = sqlite_url(tmp_path)
    prepare(url)  # what the launcher and the test stack do before Rasa starts
    broker = SQLEventBroker(host=url)
    broker.publish({"sender_id": "a", "event": "user", "text": "first"})
    reader = sqlite3.connect(tmp_path / "events.db")
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM events").fetchone() == (1,)
    # With SQLite's default rollback journal the reader's lock makes this commit wait out the
    # busy timeout and fail ("database is locked"): Rasa would lose the turn's events.
    broker.publish({"sender_id": "a", "event": "user", "text": "second"})
    reader.rollback()
    assert reader.execute("SELECT count(*) FROM events").fetchone() == (2,)


def test_on_postgresql_the_events_are_filtered_by_their_json_fields_in_the_database():
    # No PostgreSQL here: the statement is compiled for it, as the driver would receive it.
    from sqlalchemy.dialects import postgresql

    from bot.insights.turns import events_query

    sql = str(events_query("postgresql", 100.0, 200.0).compile(dialect=postgresql.dialect()))
    assert "CAST((CAST(events.data AS JSON) ->> %(param_1)s) AS VARCHAR) IN" in sql
    assert "CAST((CAST(events.data AS JSON) ->> %(param_3)s) AS FLOAT) >= %(param_4)s" in sql
