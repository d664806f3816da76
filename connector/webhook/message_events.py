"""The `messages` entries that are events, not something the customer said (types.EVENT_KINDS,
and `request_welcome`), parsed into their parts of InboundMessage. Called by inbound._content,
which passes its lenient readers in (as template_events is called), so both parse alike.

Shapes, from Meta's webhook reference (messages/edit, messages/revoke, calling):
  {"type": "edit", "edit": {"original_message_id": "wamid…", "message": {<a message: "type",
   "text" | "image" … with the new text or caption>}}}
  {"type": "revoke", "revoke": {"original_message_id": "wamid…"}}
  {"type": "interactive", "interactive": {"type": "call_permission_reply", "call_permission_reply":
   {"response": "accept" | "reject", "is_permanent": bool, "expiration_timestamp": int,
    "response_source": "user_action" | "automatic"}}}
  {"type": "request_welcome"}   (the customer opened the chat for the first time)
Edit and revoke are sent only for numbers also used in the WhatsApp Business app (Coexistence).
An edit or revoke without the original's id cannot be applied and becomes kind "unknown".
"""
from __future__ import annotations

from typing import Any, Callable

from connector.webhook.types import CallPermissionReply, Edit, Revoke

CALL_PERMISSION_REPLY = "call_permission_reply"


def content(raw_type: str, raw: dict, body: dict, *, content_of: Callable[[str, dict], dict],
            text: Callable[[Any], str | None], time: Callable[[Any], Any]) -> dict | None:
    """The InboundMessage fields for an event message, or None when `raw` is not one."""
    if raw_type == "request_welcome":
        return {"kind": "request_welcome"}
    if raw_type == "edit":
        original = text(body.get("original_message_id"))
        new = body.get("message") if isinstance(body.get("message"), dict) else {}
        new_type = text(new.get("type"))
        if not original:
            return {"kind": "unknown"}
        # The new message is parsed as any message is, so a caption edit reads like a caption.
        new_text = content_of(new_type, new).get("text") if new_type else None
        return {"kind": "edit", "text": new_text, "edit": Edit(original, new_text, new_type)}
    if raw_type == "revoke":
        original = text(body.get("original_message_id"))
        return {"kind": "revoke", "revoke": Revoke(original)} if original else {"kind": "unknown"}
    if raw_type == "interactive" and text(body.get("type")) == CALL_PERMISSION_REPLY:
        reply = body.get(CALL_PERMISSION_REPLY) if isinstance(body.get(CALL_PERMISSION_REPLY), dict) else {}
        answer = (text(reply.get("response")) or "").lower()
        return {"kind": CALL_PERMISSION_REPLY, "call_permission": CallPermissionReply(
            accepted=answer == "accept", permanent=reply.get("is_permanent") is True,
            expires_at=time(reply.get("expiration_timestamp")), source=text(reply.get("response_source")))}
    return None
