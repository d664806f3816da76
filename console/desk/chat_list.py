"""The chat list beside the open conversation: the agent's own chats and the queue, one row each
with the customer's name, unread count, last message and its time, and the 24 h window's time left.

Built from Handoff's records (two reads of whole lists), the agent's read marks (one MGET) and
one window read per row and one labels read for all: no Rasa request, so the list stays cheap with dozens of chats.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from .. import refs, services
from . import window
from .chats import Chat

bp = Blueprint("desk", __name__, url_prefix="/desk")


@dataclass(frozen=True)
class ChatRow:
    chat: Chat
    ref: str  # what the page's scripts and the event stream call this chat (console/refs.py)
    unread: int
    last_at: datetime | None
    sendable_until: datetime | None  # None once a free-form reply can no longer go out
    labels: tuple = ()  # console/desk/labels.py Label, those on the chat now


@dataclass(frozen=True)
class ChatList:
    mine: list[ChatRow]
    waiting: list[ChatRow]
    now: datetime

    @property
    def rows(self) -> list[ChatRow]:
        return self.mine + self.waiting


def _row(chat: Chat, unread: int, now: datetime, labels) -> ChatRow:
    status = window.status(chat.conv)
    until = window.sendable_until(status) if status.open else None
    return ChatRow(chat=chat, ref=refs.current().compute(chat.conv), unread=unread,
                   last_at=chat.last_message_at or chat.queued_at,
                   sendable_until=until if until and until > now else None, labels=tuple(labels))


def chat_list(agent: str) -> ChatList:
    svc = services.current()
    mine, waiting = svc.desk.mine(agent), svc.desk.waiting()
    unread = svc.reads.unread(agent, mine + waiting)
    labels = svc.labels.on_many(c.conv for c in mine + waiting)
    now = svc.clock.now()
    return ChatList(mine=[_row(c, unread[c.conv], now, labels[c.conv]) for c in mine],
                    waiting=[_row(c, unread[c.conv], now, labels[c.conv]) for c in waiting], now=now)


@bp.app_template_global("desk_chats")
def desk_chats() -> ChatList:
    return chat_list(current_user.name)


@bp.route("/chats")
@login_required
def partial():
    """The list only; the desk swaps it in when an SSE event says something changed."""
    return render_template("_chat_list.html")
