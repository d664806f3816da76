"""A customer's past conversations and the search over them, read from the event store.

What "a conversation" is, decided here once: the events of one customer (sender_id, in row id
order) from one of these starts to the next:
* a Rasa `session_started` (Rasa starts a session after 60 quiet minutes, domain.yml
  session_config) — except while a person holds the chat: the connector restarts the session
  under a waiting customer and pauses it again (connector/channel/tracker.py), and that is
  still the same handoff;
* the first customer message or `pause` after a `resume`: a resolve (or a customer leaving
  the queue) ends the conversation; what they ask the bot afterwards is a new one, and so is
  a reopened chat (the console pauses the bot again: console/desk/history_views.py).
So a handoff episode is the session in which the customer asked for a person, through the
agent's work, to the resolve; a bot-only conversation is one Rasa session. A conversation is
addressed by (sender_id, the id of its first event), which never changes once written.

Every read filters in SQL (sender_id, the JSON fields, timestamps) and pages by row id, newest
first, so no query reads the whole table into Python; only one page's customers are segmented.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from .store import EVENTS, event_field

# The events that start, end or make up a conversation as the history shows it.
SEGMENT_KINDS = ("session_started", "pause", "resume", "user", "bot")
PAGE_SIZE = 25
MAX_PAGE = 100
CUSTOMERS = 10
# A name search looks at this many customers with that name, the most recently seen.
MAX_NAMED = 1000
# An SQL LIKE pattern: the search's text is literal, so its own % and _ are escaped.
LIKE_ESCAPE = "\\"


@dataclass
class PastConversation:
    sender: str
    start_id: int
    end_id: int
    started_at: float
    ended_at: float
    handoff: bool = False
    agents: list[str] = field(default_factory=list)   # who wrote in it, first reply first
    first_customer: dict | None = None                # its first customer event
    name: str = ""                                     # the customer's profile name in it
    customer_messages: int = 0

    def holds(self, event_id: int) -> bool:
        return self.start_id <= event_id <= self.end_id


@dataclass(frozen=True)
class Query:
    """Every given filter must match. `within` (from labels): only events of these customers
    inside these times, as (sender_id, from, to); None means no such restriction."""
    text: str = ""
    number: str = ""
    name: str = ""
    since: float | None = None
    until: float | None = None
    within: tuple[tuple[str, float, float], ...] | None = None


@dataclass
class Hit:
    event_id: int
    sender: str
    event: dict
    conversation: PastConversation


@dataclass
class Page:
    hits: list[Hit]
    next_before: int | None   # pass as `before` for the next (older) page; None at the end


@dataclass(frozen=True)
class Customer:
    sender: str
    name: str
    last_seen: float


def like(text: str) -> str:
    """`text` as a contains-pattern that matches it literally (ESCAPE LIKE_ESCAPE)."""
    escaped = (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
               .replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_"))
    return f"%{escaped}%"


def digits(number: str) -> str:
    """What a number search compares with sender_id: the digits typed ("+52 55-1234" → "52551234")."""
    return re.sub(r"\D", "", number or "")


def segment(rows) -> list[PastConversation]:
    """One customer's (id, sender_id, event) rows, oldest first, as their conversations."""
    out: list[PastConversation] = []
    current: PastConversation | None = None
    paused = after_resume = False
    for event_id, sender, event in rows:
        kind = event.get("event")
        at = float(event.get("timestamp") or 0.0)
        if (current is None or (kind == "session_started" and not paused)
                or (kind in ("user", "pause") and after_resume)):
            current = PastConversation(sender, event_id, event_id, at, at)
            out.append(current)
            after_resume = False
        current.end_id, current.ended_at = event_id, max(at, current.ended_at)
        if kind == "pause":
            paused = current.handoff = True
        elif kind == "resume":
            paused, after_resume = False, True
        elif kind == "user":
            current.customer_messages += 1
            if current.first_customer is None:
                current.first_customer = event
            current.name = _profile_name(event) or current.name
        elif kind == "bot":
            agent = (event.get("metadata") or {}).get("agent")
            if agent and agent not in current.agents:
                current.agents.append(agent)
    return out


def _profile_name(event: dict) -> str:
    facts = (event.get("metadata") or {}).get("whatsapp")
    return str(facts.get("name") or "") if isinstance(facts, dict) else ""


class EventSearch:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine
        dialect = engine.dialect.name
        self._kind = event_field(dialect, "event")
        self._text = event_field(dialect, "text")
        # What the customer typed or captioned, as the connector recorded it: a tapped button
        # or a photo reaches Rasa as "/intent{…}", the words are only here.
        self._typed = event_field(dialect, "metadata.whatsapp.text")
        self._name = event_field(dialect, "metadata.whatsapp.name")
        self._agent = event_field(dialect, "metadata.agent")
        self._at = event_field(dialect, "timestamp", number=True)

    # ---- one customer ---------------------------------------------------------------------

    def conversations(self, sender: str) -> list[PastConversation]:
        """Every conversation of this customer, newest first."""
        return list(reversed(self._segmented([sender]).get(sender, [])))

    def conversation(self, sender: str, start_id: int) -> tuple[PastConversation, list[dict]] | None:
        """The conversation that starts at event `start_id`, and its events (oldest first)."""
        events: list[tuple[int, str, dict]] = []
        for conversation in self._segmented([sender], keep=events).get(sender, []):
            if conversation.start_id == start_id:
                return conversation, [e for i, _, e in events if conversation.holds(i)]
        return None

    # ---- search ---------------------------------------------------------------------------

    def search(self, query: Query, before: int | None = None, limit: int = PAGE_SIZE) -> Page:
        """Messages matching `query`, newest first, each with its conversation. With a text:
        the customers' and agents' messages containing it; without: the customers' messages."""
        limit = max(1, min(int(limit), MAX_PAGE))
        if query.within is not None and not query.within:
            return Page([], None)
        if query.text:
            pattern = like(query.text)
            matches = sa.or_(self._text.ilike(pattern, escape=LIKE_ESCAPE),
                             self._typed.ilike(pattern, escape=LIKE_ESCAPE))
            said = sa.and_(sa.or_(self._kind == "user", sa.and_(self._kind == "bot", self._agent.isnot(None))),
                           matches)
        else:
            said = self._kind == "user"
        select = sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.data).where(
            said, *self._filters(query))
        if before is not None:
            select = select.where(EVENTS.c.id < int(before))
        with self.engine.connect() as conn:
            rows = conn.execute(select.order_by(EVENTS.c.id.desc()).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        segmented = self._segmented(sorted({sender for _, sender, _ in rows}))
        hits = []
        for event_id, sender, raw in rows:
            conversation = next(c for c in segmented[sender] if c.holds(event_id))
            hits.append(Hit(event_id, sender, json.loads(raw), conversation))
        return Page(hits, rows[-1][0] if more else None)

    def customers(self, query: Query, limit: int = CUSTOMERS) -> list[Customer]:
        """The customers a number or name search names, the most recently seen first."""
        if not (query.number or query.name):
            return []
        last = sa.func.max(EVENTS.c.id).label("last")
        select = (sa.select(EVENTS.c.sender_id, last)
                  .where(self._kind == "user", *self._filters(Query(number=query.number, name=query.name)))
                  .group_by(EVENTS.c.sender_id).order_by(last.desc()).limit(limit))
        with self.engine.connect() as conn:
            found = conn.execute(select).all()
            latest = {i: json.loads(raw) for i, raw in conn.execute(
                sa.select(EVENTS.c.id, EVENTS.c.data).where(EVENTS.c.id.in_([i for _, i in found])))}
        return [Customer(sender, _profile_name(latest[i]), float(latest[i].get("timestamp") or 0.0))
                for sender, i in found]

    # ---- internals ------------------------------------------------------------------------

    def _filters(self, query: Query) -> list:
        where = []
        if query.number:
            number = digits(query.number)
            # No digit typed: the customer ids are digits, so nothing can match.
            where.append(EVENTS.c.sender_id.like(like(number), escape=LIKE_ESCAPE) if number else sa.false())
        if query.name:
            # The customers first, in one scan; then the events go by the sender_id index.
            where.append(EVENTS.c.sender_id.in_(self._named(query.name)))
        if query.since is not None:
            where.append(self._at >= query.since)
        if query.until is not None:
            where.append(self._at < query.until)
        if query.within is not None:
            where.append(sa.or_(*(sa.and_(EVENTS.c.sender_id == sender, self._at >= start, self._at <= end)
                                  for sender, start, end in query.within)))
        return where

    def _named(self, name: str) -> list[str]:
        """Customers who had a profile name containing `name`, the most recent MAX_NAMED."""
        last = sa.func.max(EVENTS.c.id)
        select = (sa.select(EVENTS.c.sender_id)
                  .where(self._kind == "user", self._name.ilike(like(name), escape=LIKE_ESCAPE))
                  .group_by(EVENTS.c.sender_id).order_by(last.desc()).limit(MAX_NAMED))
        with self.engine.connect() as conn:
            return list(conn.execute(select).scalars())

    def _segmented(self, senders: list[str], keep: list | None = None) -> dict[str, list[PastConversation]]:
        """These customers' conversations, oldest first; `keep` collects the events read."""
        if not senders:
            return {}
        select = (sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.data)
                  .where(EVENTS.c.sender_id.in_(senders), self._kind.in_(SEGMENT_KINDS))
                  .order_by(EVENTS.c.sender_id, EVENTS.c.id))
        rows: dict[str, list] = {}
        with self.engine.connect() as conn:
            for event_id, sender, raw in conn.execute(select):
                row = (event_id, sender, json.loads(raw))
                rows.setdefault(sender, []).append(row)
                if keep is not None:
                    keep.append(row)
        return {sender: segment(own) for sender, own in rows.items()}
