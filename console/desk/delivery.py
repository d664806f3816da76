"""Messages WhatsApp did not deliver (connector.cloudapi.delivery), reduced to what an agent can act on."""
from __future__ import annotations

import logging
from datetime import datetime

from .. import services

log = logging.getLogger(__name__)


def summary(entry) -> dict:
    if not isinstance(entry, dict):
        return {"code": "", "title": str(entry), "detail": "", "excerpt": "", "at": None}
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
