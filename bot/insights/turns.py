"""Customer turns read from the event store: a customer message and what the bot did about it.

A turn is one `user` event and the events up to the next one in the same conversation (Rasa
streams a conversation's events in order, under its lock, so the row id orders them). The
conversation id is the customer's WhatsApp number: it is used to order and to link turns, and
never leaves this package's results.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from .store import EVENTS, event_field

FAQ_RESPONSE_PREFIX = "utter_faq/"
FALLBACK_ACTIONS = frozenset({"action_fallback", "action_default_fallback"})
# A turn "ended in a handoff" when the bot handed the chat over in it or in the customer's next
# turn (an FAQ that offers a person, then "yes"; a first miss, then "a person please").
HANDOFF_WITHIN_TURNS = 1
# Events read past the end of a range, so the last turns in it can see that follow-up turn.
LOOKAHEAD_SECONDS = 3600
KINDS = ("user", "bot", "action", "pause")
DEFAULT_LANGUAGE = "es"


@dataclass
class Turn:
    event_id: int
    conversation: str
    text: str
    at: float
    intent: str
    language: str
    # (FAQ key, confidence), best first, from the response selector's ranking for this message.
    faq_ranking: list[tuple[str, float]]
    actions: list[str] = field(default_factory=list)
    first_reply_at: float | None = None
    answered_faq: str | None = None
    handoff: bool = False
    ended_in_handoff: bool = False

    @property
    def typed(self) -> bool:
        """Typed by the customer, not a button payload (/intent{...})."""
        return not self.text.startswith("/")

    @property
    def handled(self) -> bool:
        """The bot acted on it; messages to a person (paused conversation) are not the bot's."""
        return any(a != "action_listen" for a in self.actions)

    @property
    def fallback(self) -> bool:
        return bool(FALLBACK_ACTIONS.intersection(self.actions))

    @property
    def response_seconds(self) -> float | None:
        return None if self.first_reply_at is None else self.first_reply_at - self.at


def normalized(text: str) -> str:
    """How two customers' messages compare as "the same text"."""
    return " ".join(text.lower().split())


def _faq_ranking(parse_data: dict) -> list[tuple[str, float]]:
    selector = (parse_data.get("response_selector") or {}).get("faq") or {}
    ranked = []
    for row in selector.get("ranking") or []:
        key = row.get("intent_response_key") or ""
        if "/" in key:
            ranked.append((key.split("/", 1)[1], float(row.get("confidence") or 0.0)))
    return sorted(ranked, key=lambda kv: -kv[1])


def _language(parse_data: dict) -> str | None:
    for entity in parse_data.get("entities") or []:
        if entity.get("entity") == "language":
            return entity.get("value")
    return None


def customer_text(engine: sa.engine.Engine, event_id: int) -> str | None:
    """The text of a customer message by its event id; None for any other event."""
    with engine.connect() as conn:
        raw = conn.execute(sa.select(EVENTS.c.data).where(EVENTS.c.id == event_id)).scalar()
    event = json.loads(raw) if raw else {}
    text = event.get("text") or ""
    return text if event.get("event") == "user" and text and not text.startswith("/") else None


def events_query(dialect: str, start: float, end: float):
    """The events turns are made of, from `start` to a little past `end`, by conversation."""
    kind, at = event_field(dialect, "event"), event_field(dialect, "timestamp", number=True)
    return (
        sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.data)
        .where(kind.in_(KINDS), at >= start, at < end + LOOKAHEAD_SECONDS)
        .order_by(EVENTS.c.sender_id, EVENTS.c.id)
    )


def read_turns(engine: sa.engine.Engine, start: float, end: float) -> list[Turn]:
    """The turns whose customer message is in [start, end), oldest first."""
    query = events_query(engine.dialect.name, start, end)
    turns: list[Turn] = []
    by_conversation: dict[str, list[Turn]] = {}
    with engine.connect() as conn:
        for event_id, sender, raw in conn.execute(query):
            event = json.loads(raw)
            own = by_conversation.setdefault(sender, [])
            if event["event"] == "user":
                parse_data = event.get("parse_data") or {}
                previous = own[-1].language if own else DEFAULT_LANGUAGE
                own.append(Turn(
                    event_id=event_id, conversation=sender, text=event.get("text") or "",
                    at=float(event["timestamp"]), intent=(parse_data.get("intent") or {}).get("name") or "",
                    language=_language(parse_data) or previous, faq_ranking=_faq_ranking(parse_data),
                ))
                continue
            if not own:
                continue  # the tail of a turn that began before the range
            turn = own[-1]
            if event["event"] == "action":
                turn.actions.append(event.get("name") or "")
            elif event["event"] == "pause":
                turn.handoff = True
            elif event["event"] == "bot":
                if turn.first_reply_at is None:
                    turn.first_reply_at = float(event["timestamp"])
                response = (event.get("metadata") or {}).get("utter_action") or ""
                if turn.answered_faq is None and response.startswith(FAQ_RESPONSE_PREFIX):
                    turn.answered_faq = response[len(FAQ_RESPONSE_PREFIX):]
    for own in by_conversation.values():
        for i, turn in enumerate(own):
            turn.ended_in_handoff = any(t.handoff for t in own[i:i + 1 + HANDOFF_WITHIN_TURNS])
            if turn.at < end:
                turns.append(turn)
    return sorted(turns, key=lambda t: (t.at, t.event_id))
