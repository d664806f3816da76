"""What a WhatsApp contact id looks like: the one rule for turning what people type into it.

A contact is a wa_id (the phone number as WhatsApp writes it: country code first, digits only)
or, when the customer hides their number, a business-scoped user id ("US.13491208655302741918").
Consent CSVs, the alerts API, campaigns and the console's lookups all read ids people typed, so
they all ask here.
"""
from __future__ import annotations

import re

# E.164 allows at most 15 digits; 7 is the shortest number any country dials with its code.
_WA_ID = re.compile(r"^\d{7,15}$")
_BSUID = re.compile(r"^[A-Z]{2}\.[0-9A-Za-z]{1,64}$")
_SEPARATORS = re.compile(r"[\s\-().]")


def is_user_id(contact: str) -> bool:
    """A business-scoped user id rather than a phone number."""
    return bool(_BSUID.match(contact))


def normalize(text: object) -> str:
    """"+52 1 55-1234 5678" → "5215512345678"; a BSUID as it is; anything else is a ValueError."""
    raw = str(text or "").strip()
    if is_user_id(raw):
        return raw
    digits = _SEPARATORS.sub("", raw).removeprefix("+")
    if not _WA_ID.match(digits):
        raise ValueError(f"{raw!r} is not a WhatsApp number (country code and number, digits only) "
                         "nor a business-scoped user id")
    return digits
