"""Webhook payloads shaped like Meta's: the envelope every webhook shares, and status updates."""
from __future__ import annotations

import hashlib
from typing import Any

from .settings import Settings

WINDOW_SECONDS = 24 * 3600


# Meta's wording of the two choices in the user_preferences webhook.
PREFERENCE_DETAILS = {"stop": "User requested to stop marketing messages",
                      "resume": "User requested to resume marketing messages"}


def envelope(settings: Settings, value: dict, field: str = "messages") -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": settings.waba_id, "changes": [{
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": settings.display_phone_number,
                               "phone_number_id": settings.phone_number_id},
                  **value},
        "field": field}]}]}


def preference_payload(settings: Settings, customer: dict, value: str, now: float) -> dict:
    """The customer stops or resumes marketing messages in WhatsApp's "Offers and
    announcements" setting (Meta's `user_preferences` webhook)."""
    return envelope(settings, {
        "contacts": [{"profile": {"name": customer["name"]}, "wa_id": customer["wa_id"]}],
        "user_preferences": [{"wa_id": customer["wa_id"], "detail": PREFERENCE_DETAILS[value],
                              "category": "marketing_messages", "value": value,
                              "timestamp": int(now)}],
    }, field="user_preferences")


def status_payload(settings: Settings, msg: dict, status: str, now: float,
                   window_closes_at: float | None) -> dict:
    """`window_closes_at`: when the customer's window closes (None: no window), which dates the
    conversation Meta reports with sent/delivered statuses."""
    entry: dict[str, Any] = {"id": msg["id"], "status": status, "timestamp": str(int(now)),
                             "recipient_id": msg["wa_id"] or msg["user_id"]}
    if status == "failed":
        entry["errors"] = msg["errors"]
    elif status in ("sent", "delivered"):
        category = msg["category"]
        opened = window_closes_at or msg["timestamp"] + WINDOW_SECONDS
        conv_id = hashlib.sha256(f"{msg['wa_id']}:{category}:{opened}".encode()).hexdigest()[:32]
        conversation: dict[str, Any] = {"id": conv_id, "origin": {"type": category}}
        if status == "sent":
            conversation["expiration_timestamp"] = str(opened)
        entry["conversation"] = conversation
        billable = category != "service"
        entry["pricing"] = {"billable": billable, "pricing_model": "PMP", "category": category,
                            "type": "regular" if billable else "free_customer_service"}
    return envelope(settings, {"statuses": [entry]})
