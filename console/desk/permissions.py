"""Who may act on a chat: the agent it is assigned to, or any lead. Who may see its files."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from .chats import ASSIGNED, WAITING, Chat


def can_act(user, chat: Chat) -> bool:
    # Even a lead claims a waiting chat first, so the queue and "my chats" stay truthful.
    return chat.state == ASSIGNED and (user.is_lead or chat.agent == user.name)


def require_can_act(chat: Chat) -> None:
    if not can_act(current_user, chat):
        if chat.state != ASSIGNED:
            message = "This chat is not assigned to anyone; claim it from the queue first."
        else:
            message = f"This chat is assigned to {chat.agent}; only that agent or a lead can act on it."
        abort(403, description=message)


def can_view_media(user, chat: Chat, held_before=lambda: False) -> bool:
    """Customers' files are more private than the text beside them: leads, the agent who holds
    the chat, any agent while it waits in the queue (they see it there and may claim it), and an
    agent who held this customer's chat before (`held_before()`, asked last because it reads the
    handoff's history), so last week's photo is there when they look the conversation up."""
    if user.is_lead or chat.state == WAITING or (chat.state == ASSIGNED and chat.agent == user.name):
        return True
    return bool(held_before())
