"""The event store: Rasa's SQL event broker writes it (endpoints.yml `event_broker`), we read it.

One setting, EVENTS_DB_URL, an SQLAlchemy URL: SQLite under var/ by default (embedded, no
service), `postgresql://user:password@host:5432/db` in production. Rasa's broker takes the URL
unchanged (it passes a `host` containing `://` straight to SQLAlchemy), so Rasa and the console
can never disagree about where the events are.
"""
from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker

ENV = "EVENTS_DB_URL"
# The checkout's var/, where `make run` keeps all local state (ops/launcher.py passes its own).
VAR = Path(__file__).resolve().parents[2] / "var"

# Rasa's own table (id, sender_id, data = the event as JSON): its schema has one owner, Rasa.
EVENTS = SQLEventBroker.SQLBrokerEvent.__table__

_ours = sa.MetaData()
# Dismissed not-understood messages live beside the events they name: the same lifetime and
# backup, ids that mean the same rows, and one query that leaves them out.
DISMISSED = sa.Table(
    "inbox_dismissed", _ours,
    sa.Column("event_id", sa.Integer, primary_key=True),
    sa.Column("dismissed_at", sa.Float, nullable=False),
    sa.Column("dismissed_by", sa.String(255), nullable=False),
)


# Ours, on Rasa's table (Rasa never reads it back, so an index changes nothing for it): one
# customer's conversations are read by sender_id, and without it each read scans every event.
SENDER_INDEX = sa.Index("ix_events_sender_id", EVENTS.c.sender_id)


def default_url(var: Path) -> str:
    return f"sqlite:///{(var / 'events.db').resolve()}"


def url_from_env(env: dict[str, str] | None = None, var: Path = VAR) -> str:
    env = os.environ if env is None else env
    return env.get(ENV) or default_url(var)


def prepare(url: str) -> sa.engine.Engine:
    """The store with its tables. SQLite is switched to WAL once (it persists in the file) so
    the console's reads never block Rasa's writes."""
    engine = sa.create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    EVENTS.metadata.create_all(engine, tables=[EVENTS])
    SENDER_INDEX.create(engine, checkfirst=True)
    _ours.create_all(engine)
    return engine


def event_field(dialect: str, name: str, number: bool = False):
    """`data`'s JSON field `name` (a dotted path: "metadata.whatsapp.name") as an SQL expression
    of `dialect`, to filter in the database."""
    if dialect == "sqlite":
        return sa.func.json_extract(EVENTS.c.data, f"$.{name}")
    path = tuple(name.split("."))
    field = sa.cast(EVENTS.c.data, sa.JSON)[path if len(path) > 1 else name]
    return field.as_float() if number else field.as_string()


class Dismissals:
    """Messages a lead took out of the not-understood inbox, by event id."""

    def __init__(self, engine: sa.engine.Engine, clock):
        self.engine, self.clock = engine, clock

    def dismiss(self, event_ids, by: str) -> int:
        ids = sorted({int(i) for i in event_ids})
        if not ids:
            return 0
        with self.engine.begin() as conn:
            known = set(conn.execute(sa.select(DISMISSED.c.event_id).where(
                DISMISSED.c.event_id.in_(ids))).scalars())
            fresh = [i for i in ids if i not in known]
            if fresh:
                conn.execute(DISMISSED.insert(), [
                    {"event_id": i, "dismissed_at": self.clock.now().timestamp(), "dismissed_by": by} for i in fresh])
        return len(fresh)

    def ids(self) -> set[int]:
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(DISMISSED.c.event_id)).scalars())
