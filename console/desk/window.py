"""WhatsApp's 24-hour window as an agent sees it: why it is closed, and until when a reply goes out."""
from __future__ import annotations

from datetime import timedelta

from .. import services

REASONS = {
    "open": "open",
    "expired": "more than 24 h since the customer's last message",
    "no_inbound": "the customer has not written yet",
    "131047": "WhatsApp reported the window closed",
    "closed": "closed",
}


def reason_text(reason: str | None) -> str:
    return REASONS.get(reason or "", reason or "")


def status(conversation_id: str):
    return services.current().window.status(conversation_id)


def sendable_until(window_status):
    """closes_at minus ServiceWindow's safety margin: the countdown must hit zero when sends stop."""
    if not window_status.closes_at:
        return None
    return window_status.closes_at - getattr(services.current().window, "margin", timedelta(0))
