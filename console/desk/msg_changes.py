"""What happened to the conversation besides its messages, laid over the history built from
Rasa's tracker (history.py): orders as cards, edits and deletions on the message they change
(matched by wamid: Rasa's user event carries it as `message_id`), and the other recorded events
(bot/customer_events.py: reactions, call permissions, …) as lines at their time."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from bot import customer_events as ce
from bot import orders

if TYPE_CHECKING:  # history.py imports this module
    from console.desk.history import Message


def order_of(event: dict) -> orders.OrderSummary | None:
    """The order a customer event carries (the connector's facts), None for any other message."""
    facts = (event.get("metadata") or {}).get("whatsapp")
    order = facts.get("order") if isinstance(facts, dict) else None
    return orders.summarize(order) if isinstance(order, dict) else None


def apply(messages: list["Message"], events: Iterable[ce.CustomerEvent], system) -> list["Message"]:
    """`messages` with edits and deletions applied and the events' lines merged in by time;
    `system(text, at)` makes a history line."""
    events = list(events)
    changed = ce.changes(events)
    for message in messages:
        if message.order is not None:
            message.text = message.order.note  # the card shows the rest, not "[order]"
        change = changed.get(message.wamid or "")
        if change is None:
            continue
        if change.edited_at is not None:
            message.original_text, message.text, message.edited = message.text, change.edited_text or "", True
        message.deleted = change.deleted_at is not None
    pending = [system(text, at) for at, text in ce.lines(events)]
    out: list["Message"] = []
    for message in messages:
        while pending and message.at is not None and pending[0].at <= message.at:
            out.append(pending.pop(0))
        out.append(message)
    return out + pending
