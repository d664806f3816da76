"""Unread counts: per agent and conversation, the customer messages since that agent last had
the chat open.

Handoff counts each handoff's customer messages (Conversation.customer_messages, the message that
asked for a person included); this module keeps how many of them each agent had seen:
`console:read:{agent}:{conv}` = "{handoff start}:{count}", for 30 days after the last opening.
The handoff start (queued_at) tells handoffs apart: the customer's next handoff starts from zero
in Handoff, so a mark from an earlier one must not hide its messages.
"""
from __future__ import annotations

from .chats import Chat

TTL_SECONDS = 30 * 24 * 3600


def _key(agent: str, conversation_id: str) -> str:
    return f"console:read:{agent}:{conversation_id}"


def _handoff(chat: Chat) -> str:
    return repr(chat.queued_at.timestamp()) if chat.queued_at else ""


class ReadMarks:
    def __init__(self, redis) -> None:
        self.redis = redis

    def mark_read(self, agent: str, chat: Chat) -> None:
        """The agent has the chat open: every customer message so far is seen."""
        self.redis.set(_key(agent, chat.conv), f"{_handoff(chat)}:{chat.customer_messages}", ex=TTL_SECONDS)

    def unread(self, agent: str, chats: list[Chat]) -> dict[str, int]:
        """conversation id -> customer messages this agent has not seen, in one round trip."""
        if not chats:
            return {}
        marks = self.redis.mget([_key(agent, chat.conv) for chat in chats])
        counts = {}
        for chat, mark in zip(chats, marks):
            handoff, _, seen = (mark or "").rpartition(":")
            seen_here = int(seen) if mark and handoff == _handoff(chat) else 0
            counts[chat.conv] = max(chat.customer_messages - seen_here, 0)
        return counts
