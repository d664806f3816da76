"""What an agent may see about the customer: name, a partly masked number, language, opt-in."""
from __future__ import annotations

import json
from dataclasses import dataclass

import redis

# Country codes we see most, longest first, so "+52 55 …" splits as Mexico, not "+5".
COUNTRY_CODES = ("521", "52", "1", "34", "57", "54", "56", "51", "44", "49", "33")


@dataclass(frozen=True)
class CustomerInfo:
    name: str
    number: str
    language: str
    optin: str


def mask_number(conversation_id: str) -> str:
    """+52 55 **** 1234: enough to recognise a customer, not enough to copy the number."""
    digits = conversation_id.lstrip("+")
    if not digits.isdigit():
        return "hidden (WhatsApp username contact)"
    if len(digits) < 8:
        return "****"
    cc = next((c for c in COUNTRY_CODES if digits.startswith(c) and len(digits) - len(c) >= 8), digits[:2])
    if cc == "521":
        cc = "52"  # the legacy Mexican mobile "1" is not part of how people write their number
        rest = digits[3:]
    else:
        rest = digits[len(cc):]
    return f"+{cc} {rest[:2]} **** {rest[-4:]}"


def optin_status(r: redis.Redis, conversation_id: str) -> str:
    """`optin:{conv}` is written by the business-initiated messaging feature; until then, unknown."""
    key = f"optin:{conversation_id}"
    kind = r.type(key)
    if kind == "string":
        raw = r.get(key)
        try:
            value = json.loads(raw)
        except (TypeError, ValueError):
            return str(raw)
        if isinstance(value, dict):
            return str(value.get("status") or value.get("state") or "unknown")
        return str(value)
    if kind == "hash":
        data = r.hgetall(key)
        return str(data.get("status") or data.get("state") or "unknown")
    return "unknown"
