"""The business profile endpoint (`GET|POST /{phone-number-id}/whatsapp_business_profile`) as
Meta serves it: GET answers the `fields=` asked for (only those with a value), POST sets the
fields it names and leaves the others, and a bad value is refused with Meta's error 100 before
anything changes. The profile lives in `Emulator.profile` and is kept with the rest of the
emulator's state (state.py).

Limits are written here again on purpose: the emulator plays Meta and shares nothing with the
connector it tests (limits from Meta's reference: about 1-139, address 256, description 512,
email 128, websites 2 × 256).
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

from .errors import ApiError, bad_param

READABLE = ("about", "address", "description", "email", "profile_picture_url", "websites", "vertical")
WRITABLE = ("about", "address", "description", "email", "profile_picture_handle", "websites", "vertical")
MAX_LENGTH = {"about": 139, "address": 256, "description": 512, "email": 128}
MAX_WEBSITES, MAX_WEBSITE = 2, 256
VERTICALS = ("UNDEFINED", "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN",
             "FINANCE", "GROCERY", "GOVT", "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL",
             "TRAVEL", "RESTAURANT", "ALCOHOL", "ONLINE_GAMBLING", "PHYSICAL_GAMBLING", "OTC_DRUGS",
             "NOT_A_BIZ")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def read(emu, fields: str | None) -> dict:
    wanted = [f.strip() for f in (fields or ",".join(READABLE)).split(",") if f.strip()]
    for name in wanted:
        if name not in READABLE and name != "messaging_product":
            raise ApiError(100, f"Tried accessing nonexisting field ({name}) on node type "
                                "(WhatsAppBusinessProfile)",
                           message=f"(#100) Tried accessing nonexisting field ({name}) on node type "
                                   "(WhatsAppBusinessProfile)")
    with emu.lock:
        profile = {name: emu.profile[name] for name in wanted if emu.profile.get(name) not in (None, "", [])}
    return {"data": [{**profile, "messaging_product": "whatsapp"}]}


def update(emu, body: Any) -> dict:
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        raise ApiError(100, "The parameter messaging_product is required.")
    changes = {name: value for name, value in body.items() if name != "messaging_product"}
    for name, value in changes.items():
        _check(name, value)
    if "profile_picture_handle" in changes:
        handle = changes.pop("profile_picture_handle")
        changes["profile_picture_url"] = ("https://pps.whatsapp.net/emulator/"
                                          + hashlib.sha256(str(handle).encode()).hexdigest()[:16])
    with emu.lock:
        emu.profile.update(changes)
        emu._touch()
    return {"success": True}


def _check(name: str, value: Any) -> None:
    if name not in WRITABLE:
        raise bad_param(f"Param {name} is not a valid business profile field.")
    if name == "websites":
        if not isinstance(value, list) or len(value) > MAX_WEBSITES:
            raise bad_param(f"Param websites must be an array of at most {MAX_WEBSITES} URLs.")
        for site in value:
            if not isinstance(site, str) or len(site) > MAX_WEBSITE or not re.match(r"^https?://", site):
                raise bad_param(f"Param websites[] must be an http(s) URL of at most {MAX_WEBSITE} characters.")
        return
    if not isinstance(value, str):
        raise bad_param(f"Param {name} must be a string.")
    if name == "about" and not value:
        raise bad_param("Param about must be at least 1 character long.")
    if name in MAX_LENGTH and len(value) > MAX_LENGTH[name]:
        raise bad_param(f"Param {name} must be at most {MAX_LENGTH[name]} characters long.")
    if name == "email" and value and not EMAIL.match(value):
        raise bad_param("Param email must be a valid email address.")
    if name == "vertical" and value not in VERTICALS:
        raise bad_param(f"Param vertical must be one of {{{', '.join(VERTICALS)}}}.")
