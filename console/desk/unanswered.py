"""Has the customer's last message been answered? Resolve asks first when it has not.

A message is answered when a bot or agent message that did not fail comes after it: a reply
WhatsApp refused (console/desk/delivery.py marks it) never reached the customer.
"""
from __future__ import annotations

WARNING = "The customer's last message has no answer yet. Resolve anyway?"


def unanswered(messages):
    """The customer's last message when nothing was sent after it, else None."""
    for message in reversed(messages):
        if message.kind == "customer":
            return message
        if message.kind in ("bot", "agent") and message.status != "failed":
            return None
    return None
