"""The supervisor's picture of the desk: every open chat with its wait and window, every agent
with their presence and load. Read-only: moving chats is Desk.transfer and Desk.assign."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from .chats import ASSIGNED, Chat
from . import window


@dataclass(frozen=True)
class OpenChat:
    chat: Chat
    # Since it was queued (first request: a requeued chat keeps its place and its wait) or,
    # once assigned, since it was assigned.
    since: datetime | None
    last_customer_at: datetime | None
    window_open: bool
    replies_until: datetime | None  # when free-form replies stop (the window minus its margin)

    @property
    def assigned(self) -> bool:
        return self.chat.state == ASSIGNED


@dataclass(frozen=True)
class AgentRow:
    name: str
    role: str
    online: bool  # what transfers and the customers' ETA go by
    said_online: bool
    last_seen: datetime | None
    load: int  # chats they hold


def open_chats(desk) -> list[OpenChat]:
    rows = []
    for chat in desk.open_chats():
        status = window.status(chat.conv)
        rows.append(OpenChat(chat, chat.assigned_at if chat.state == ASSIGNED else chat.queued_at,
                             status.last_inbound_at, bool(status.open), window.sendable_until(status)))
    return rows


def agents(desk, users, chats: list[OpenChat]) -> list[AgentRow]:
    """Every enabled user (leads take chats too), plus anyone still holding a chat."""
    load = Counter(row.chat.agent for row in chats if row.assigned)
    presence = desk.presence()
    roles = {user.name: user.role for user in users if not user.disabled}
    names = sorted(set(roles) | set(load))
    rows = []
    for name in names:
        p = presence.get(name)
        rows.append(AgentRow(name, roles.get(name, "disabled"), bool(p and p.online),
                             bool(p and p.said_online), p.last_seen if p else None, load[name]))
    # Who can take a chat now first, then the busiest.
    return sorted(rows, key=lambda r: (not r.online, -r.load, r.name))
