"""Customer actions beyond writing and tapping, shaped as Meta sends them: a catalogue order,
an edit or deletion of an earlier message, a reply to a call-permission request, and opening
the chat for the first time (request_welcome). Each is the type-specific part of the message
in the inbound webhook; core.Emulator.customer_sends adds the id, sender and time.

  {"type": "order", "items": [{"product_retailer_id", "quantity", "item_price", "currency"}], "text"?}
  {"type": "edit", "message_id": <the customer's earlier message>, "text": "new text"}
  {"type": "revoke", "message_id": <the customer's earlier message>}
  {"type": "call_permission_reply", "response": "accept" | "reject", "expiration_timestamp"?}
  {"type": "request_welcome"}
"""
from __future__ import annotations

from typing import Any, Callable

from .errors import invalid

KINDS = ("order", "edit", "revoke", "call_permission_reply", "request_welcome")
CATALOG_ID = "194836987003835"


def content(kind: str, action: dict, own_message: Callable[[Any], dict]) -> dict[str, Any]:
    """The message fields for `kind`; `own_message(id)` is the customer's earlier message, or raises."""
    if kind == "order":
        items = action.get("items")
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise invalid("items must be a non-empty list of product items")
        keys = ("product_retailer_id", "quantity", "item_price", "currency")
        return {"type": "order", "order": {
            "catalog_id": CATALOG_ID, "text": str(action.get("text") or ""),
            "product_items": [{k: item[k] for k in keys if k in item} for item in items]}}
    if kind in ("edit", "revoke"):
        original = own_message(action.get("message_id"))["id"]
        if kind == "revoke":
            return {"type": "revoke", "revoke": {"original_message_id": original}}
        text = action.get("text")
        if not isinstance(text, str) or not text.strip():
            raise invalid("text must be a non-empty string")
        return {"type": "edit", "edit": {"original_message_id": original, "message": {
            "context": {"id": original}, "type": "text", "text": {"body": text}}}}
    if kind == "call_permission_reply":
        response = action.get("response")
        if response not in ("accept", "reject"):
            raise invalid("response must be accept or reject")
        reply: dict[str, Any] = {"response": response, "is_permanent": action.get("expiration_timestamp") is None,
                                 "response_source": "user_action"}
        if action.get("expiration_timestamp") is not None:
            reply["expiration_timestamp"] = int(action["expiration_timestamp"])
        return {"type": "interactive", "interactive": {"type": "call_permission_reply",
                                                       "call_permission_reply": reply}}
    return {"type": "request_welcome"}
