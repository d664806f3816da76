"""Inbound messages that are recorded for the agent (bot/customer_events.py), not answered."""
from __future__ import annotations

from bot import customer_events as ce
from connector.webhook.types import EVENT_KINDS, InboundMessage

# Recorded and nothing else: no bot turn, no read receipt, no 24 h window (as with reactions, if
# Meta counts one of these as opening the window we only lose window time). "unknown" is a
# type Meta added after this code: a customer message Meta cannot pass on comes as
# "unsupported" (131051), which still gets the "write it in text" reply.
SILENT = (*EVENT_KINDS, ce.SYSTEM, ce.UNKNOWN)


def customer_event(message: InboundMessage) -> ce.CustomerEvent | None:
    """The record of this message for the agent, or None when it is a message of its own."""
    at = message.timestamp.timestamp() if message.timestamp else 0.0
    base = dict(id=message.wamid, kind=message.kind, at=at)
    if message.edit is not None:
        return ce.CustomerEvent(**base, target=message.edit.original_message_id, text=message.text)
    if message.revoke is not None:
        return ce.CustomerEvent(**base, target=message.revoke.original_message_id)
    if message.reaction is not None:
        return ce.CustomerEvent(**base, target=message.reaction.message_id, text=message.reaction.emoji or "")
    if message.call_permission is not None:
        permission = message.call_permission
        until = permission.expires_at.timestamp() if permission.expires_at and not permission.permanent else None
        return ce.CustomerEvent(**base, value="accept" if permission.accepted else "reject",
                                until=until if permission.accepted else None)
    if message.kind == ce.SYSTEM:
        return ce.CustomerEvent(**base, text=message.text)
    if message.kind == ce.UNKNOWN:
        return ce.CustomerEvent(**base, value=message.raw_type)
    return None
