"""What the handoff hands out: its states, the refusals it raises, and the records it returns
(bot/handoff/__init__.py re-exports every name, so callers import them from bot.handoff)."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

BOT, QUEUED, ASSIGNED, RESOLVED = "bot", "queued", "assigned", "resolved"
STATES = (BOT, QUEUED, ASSIGNED, RESOLVED)


class HandoffError(Exception):
    """Base for every refused handoff operation."""


class InvalidTransition(HandoffError):
    def __init__(self, conv: str, state: str, action: str, detail: str = "") -> None:
        self.conv, self.state, self.action = conv, state, action
        super().__init__(
            f"cannot {action} conversation {conv!r}: it is {state!r}" + (f" ({detail})" if detail else "")
        )


class NotYourChat(HandoffError):
    def __init__(self, conv: str, agent: str, owner: str, action: str) -> None:
        self.conv, self.agent, self.owner = conv, agent, owner
        super().__init__(
            f"{agent!r} cannot {action} conversation {conv!r}: it is assigned to {owner!r} "
            "(only that agent or a lead can)"
        )


class AgentOffline(HandoffError):
    def __init__(self, conv: str, agent: str) -> None:
        self.conv, self.agent = conv, agent
        super().__init__(f"cannot give {conv!r} to {agent!r}: that agent is not online")


@dataclass(frozen=True)
class Ticket:
    position: int  # 1-based place in the queue; 0 once assigned
    eta_seconds: int | None  # None when no agent is online
    state: str
    created: bool = False  # False when the request found the chat already queued/assigned


@dataclass(frozen=True)
class Conversation:
    conv: str
    state: str = BOT
    agent: str | None = None
    reason: str = ""
    language: str = "es"
    name: str = ""
    last_message: str = ""
    queued_at: dt.datetime | None = None  # first request; kept across requeues
    assigned_at: dt.datetime | None = None
    priority: int = 0
    position: int | None = None  # only filled by waiting()
    enqueued_at: dt.datetime | None = None  # last time it entered the queue
    previous_agent: str | None = None
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None
    reopened_at: dt.datetime | None = None  # set by reopen; a new request starts a new record
    transfers: int = 0
    # Customer messages since this handoff began (the one that asked for a person included):
    # the console's unread count is this minus what the agent had seen (console/desk/unread.py).
    customer_messages: int = 0
    last_message_at: dt.datetime | None = None

    @property
    def conversation_id(self) -> str:
        return self.conv

    @property
    def with_person(self) -> bool:
        """True while the connector must route messages to the console, not the bot."""
        return self.state in (QUEUED, ASSIGNED)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, dt.datetime):
                data[key] = value.isoformat()
        return data

    @classmethod
    def from_hash(cls, conv: str, h: dict[str, str], position: int | None = None) -> "Conversation":
        return cls(
            conv=conv,
            state=h.get("state") or BOT,
            agent=h.get("agent") or None,
            reason=h.get("reason", ""),
            language=h.get("language") or "es",
            name=h.get("name", ""),
            last_message=h.get("last_message", ""),
            queued_at=_time(h.get("queued_at")),
            assigned_at=_time(h.get("assigned_at")),
            priority=int(h.get("priority") or 0),
            position=position,
            enqueued_at=_time(h.get("enqueued_at")),
            previous_agent=h.get("previous_agent") or None,
            resolved_at=_time(h.get("resolved_at")),
            resolved_by=h.get("resolved_by") or None,
            reopened_at=_time(h.get("reopened_at")),
            transfers=int(h.get("transfers") or 0),
            customer_messages=int(h.get("customer_messages") or 0),
            last_message_at=_time(h.get("last_message_at")),
        )


@dataclass(frozen=True)
class Presence:
    agent: str
    said_online: bool  # their own switch
    last_seen: dt.datetime | None  # last heartbeat or action
    online: bool  # said online and seen within the agent timeout: who gets transfers, who the ETA counts


def _time(value: str | float | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromtimestamp(float(value), tz=dt.timezone.utc)
