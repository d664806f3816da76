"""What happened to the messages sent (connector.cloudapi.delivery), reduced to what an agent
can act on: each bubble's ticks or failure (`annotate`), and the conversation's failures."""
from __future__ import annotations

import logging
from datetime import datetime

from connector.cloudapi.errors import advice_for

from .. import services

log = logging.getLogger(__name__)

CUSTOMER_MESSAGE_KINDS = ("turn_failed", "dead_letter")


def summary(entry) -> dict:
    if not isinstance(entry, dict):
        return {"code": "", "title": str(entry), "detail": "", "excerpt": "", "at": None, "advice": ""}
    body = entry.get("body") if isinstance(entry.get("body"), dict) else {}
    excerpt = ""
    if isinstance(body.get("text"), dict):
        excerpt = str(body["text"].get("body", ""))
    elif isinstance(body.get("template"), dict):
        excerpt = f"template {body['template'].get('name', '')}"
    elif body.get("type"):
        excerpt = f"{body['type']} message"
    try:
        at = datetime.fromisoformat(entry["at"]) if entry.get("at") else None
    except (TypeError, ValueError):
        at = None
    return {
        # A send's failure says what to do; a customer message not answered (turn_failed,
        # dead_letter) is the agent's to answer, which the title says.
        "advice": "" if entry.get("kind") in CUSTOMER_MESSAGE_KINDS else advice_for(entry.get("code")),
        "code": str(entry.get("code") or ""),
        "title": str(entry.get("title") or entry.get("kind") or "Not delivered"),
        "detail": str(entry.get("detail") or ""),
        "excerpt": excerpt,
        "at": at,
    }


def failures(conversation_id: str) -> list[dict]:
    """The conversation's delivery failures; none when they cannot be read (the page must open)."""
    try:
        return [summary(entry) for entry in services.current().delivery.failures(conversation_id)]
    except Exception:
        log.exception("could not read delivery failures")
        return []


def annotate(conversation_id: str, messages) -> None:
    """Put each sent message's state (ticks, or the failure and what to do) on it; left as it
    is when the states cannot be read (the history must still show)."""
    keys = [m.delivery_key for m in messages if m.delivery_key]
    if not keys:
        return
    try:
        states = services.current().delivery.states(conversation_id, keys)
    except Exception:
        log.exception("could not read delivery states")
        return
    for m in messages:
        state = states.get(m.delivery_key)
        if state is not None:
            m.status, m.failure, m.advice = state.status, state.failure, state.advice
