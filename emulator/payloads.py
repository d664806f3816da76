"""Webhook payloads shaped like Meta's: the envelope every webhook shares, and status updates."""
from __future__ import annotations

import hashlib
from typing import Any

from .errors import invalid
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


# The account-level webhooks, as Meta's webhook reference lists their values.
QUALITY_FIELD, ACCOUNT_FIELD = "phone_number_quality_update", "account_update"
QUALITY_EVENTS = ("FLAGGED", "UNFLAGGED", "UPGRADE", "DOWNGRADE", "THROUGHPUT_UPGRADE", "ONBOARDING")
TIERS = ("TIER_50", "TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED", "TIER_NOT_SET")
ACCOUNT_EVENTS = ("ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE", "ACCOUNT_DELETED",
                  "ACCOUNT_OFFBOARDED", "ACCOUNT_RECONNECTED", "PARTNER_APP_INSTALLED", "PARTNER_APP_UNINSTALLED")
ACCOUNT_PARTS = ("ban_info", "restriction_info", "violation_info", "lock_info")


def account_payload(settings: Settings, field: str, data: dict, now: float) -> dict:
    """A phone_number_quality_update ({"event", "limit", "old_limit"}) or an account_update
    ({"event", and any of ACCOUNT_PARTS as Meta nests them}). Unlike message webhooks these
    carry no metadata: the entry's `time` is their only date."""
    event = data.get("event")
    if field == QUALITY_FIELD:
        limit, old = data.get("limit", "TIER_2K"), data.get("old_limit")
        if event not in QUALITY_EVENTS or limit not in TIERS or old not in (None, *TIERS):
            raise invalid(f"event must be one of {', '.join(QUALITY_EVENTS)}; limits one of {', '.join(TIERS)}")
        # current_limit is deprecated (Meta still sends it) for max_daily_conversations_per_business.
        value = {"display_phone_number": settings.display_phone_number, "event": event,
                 **({"old_limit": old} if old else {}), "current_limit": limit,
                 "max_daily_conversations_per_business": limit}
    else:
        if event not in ACCOUNT_EVENTS:
            raise invalid(f"event must be one of {', '.join(ACCOUNT_EVENTS)}")
        value = {"event": event, **{part: data[part] for part in ACCOUNT_PARTS if part in data}}
    return {"object": "whatsapp_business_account", "entry": [{
        "id": settings.waba_id, "time": int(now), "changes": [{"value": value, "field": field}]}]}


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
