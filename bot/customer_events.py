"""What a customer did in the chat besides writing to the bot: edited or deleted a message,
reacted, answered a call-permission request, changed number, or sent a kind of message WhatsApp
added after this code. None of these gets a reply; each is kept here for the person who reads
the conversation. The connector's workers write (connector/channel/turns.py), the console's
history reads and folds them into the conversation (console/desk/history.py).

Key, owned here: `custev:{conv}`, a sorted set per conversation: score = Meta's time of the
event (epoch seconds), member = the event as canonical JSON. Recording the same event again is a
no-op (same member), so a turn re-run after a crash records nothing twice; and the fold goes by
Meta's time, so a late edit still lands in the order the customer made it. The newest
MAX_EVENTS are kept; the messages they point at live in Rasa's tracker, which has no expiry either.

Deleted messages stay readable to agents, struck through: the bot has usually answered them
already (its reply would make no sense without them), the agent may have read them, and
Rasa's tracker and the event store keep the text anyway, so hiding it would only pretend.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, fields
from typing import Iterable

MAX_EVENTS = 1000

EDIT, REVOKE, REACTION, CALL_PERMISSION, SYSTEM, UNKNOWN = (
    "edit", "revoke", "reaction", "call_permission_reply", "system", "unknown")


def key(conv: str) -> str:
    return f"custev:{conv}"


@dataclass(frozen=True)
class CustomerEvent:
    id: str                    # the event's own wamid
    kind: str                  # one of the names above
    at: float                  # Meta's time, epoch seconds
    target: str | None = None  # wamid of the message it edits, deletes or reacts to
    text: str | None = None    # edit: the new text; reaction: the emoji ("" = removed); system: Meta's words
    value: str | None = None   # call permission: "accept" | "reject"; unknown: Meta's type name
    until: float | None = None  # call permission: when it expires (None: permanent or rejected)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> "CustomerEvent":
        data = json.loads(raw)
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})

    @property
    def when(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.at, dt.timezone.utc)


@dataclass(frozen=True)
class MessageChange:
    """A customer message as changed since: its latest text and whether it was deleted."""

    edited_text: str | None = None
    edited_at: dt.datetime | None = None
    deleted_at: dt.datetime | None = None


class CustomerEvents:
    def __init__(self, redis) -> None:
        self.redis = redis

    def record(self, conv: str, event: CustomerEvent) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(key(conv), {event.to_json(): event.at})
        pipe.zremrangebyrank(key(conv), 0, -MAX_EVENTS - 1)
        pipe.execute()

    def of(self, conv: str) -> list[CustomerEvent]:
        """Oldest first."""
        return [CustomerEvent.from_json(raw) for raw in self.redis.zrange(key(conv), 0, -1)]


def changes(events: Iterable[CustomerEvent]) -> dict[str, MessageChange]:
    """Edits and deletions folded per original wamid, in Meta's order: the last edit's text wins."""
    out: dict[str, MessageChange] = {}
    for event in sorted(events, key=lambda e: e.at):
        if event.kind not in (EDIT, REVOKE) or not event.target:
            continue
        before = out.get(event.target, MessageChange())
        if event.kind == EDIT:
            out[event.target] = MessageChange(event.text, event.when, before.deleted_at)
        else:
            out[event.target] = MessageChange(before.edited_text, before.edited_at, event.when)
    return out


def lines(events: Iterable[CustomerEvent]) -> list[tuple[dt.datetime, str]]:
    """The events an agent reads as a line of their own in the conversation, with their time."""
    return [(e.when, text) for e in sorted(events, key=lambda e: e.at) if (text := label(e))]


def label(event: CustomerEvent) -> str | None:
    """How the event reads for an agent; None for edits and deletions (shown on their message)."""
    if event.kind == REACTION:
        return f"Customer reacted {event.text} to a message" if event.text else "Customer removed a reaction"
    if event.kind == CALL_PERMISSION:
        if event.value != "accept":
            return "Customer declined calls"
        if event.until is None:
            return "Customer allowed calls"
        until = dt.datetime.fromtimestamp(event.until, dt.timezone.utc)
        return f"Customer allowed calls until {until:%Y-%m-%d %H:%M} UTC"
    if event.kind == SYSTEM:
        return f"WhatsApp: {event.text}" if event.text else "WhatsApp system message"
    if event.kind == UNKNOWN:
        return f"Customer sent a WhatsApp {event.value or 'message'} this desk cannot show"
    return None
