"""Ids of our own reply buttons and list rows: the Rasa payload, tagged so only we can make one.

WhatsApp echoes a button's id back as the reply, but a modified client can send any id, and an
id starting with "/" reaches Rasa as an intent with entities ("/restart" would take a chat from
its agent). So every id we send is the payload followed by a short HMAC of it, under a key
derived from the app secret (a secret only we and Meta hold; Meta never sees the derived key).
An id whose tag does not verify is not ours: the connector treats the reply as typed text.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

SECRET_ENV = "WHATSAPP_APP_SECRET"
SEPARATOR = "~"
TAG_CHARS = 12  # base64url characters: 72 bits, far beyond guessing one message at a time
OVERHEAD = len(SEPARATOR) + TAG_CHARS
_PURPOSE = b"whatsapp reply id v1"  # the app secret also signs webhooks; this key is only for ids


def key(secret: str | None = None, env=None) -> bytes:
    """The tagging key derived from the app secret: the one the channel's config holds (it may
    come from credentials.yml), else WHATSAPP_APP_SECRET (which every connector process has: the
    webhook signature needs it too)."""
    secret = secret or (os.environ if env is None else env).get(SECRET_ENV)
    if not secret:
        raise RuntimeError(f"{SECRET_ENV} is not set; button ids cannot be tagged or checked without it")
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _mac(payload: str, key: bytes) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TAG_CHARS]


def tag(payload: str, key: bytes) -> str:
    return f"{payload}{SEPARATOR}{_mac(payload, key)}"


def untag(reply_id: str, key: bytes) -> str | None:
    """The payload of an id we made; None for any other id."""
    if len(reply_id) <= OVERHEAD or reply_id[-OVERHEAD] != SEPARATOR:
        return None
    payload, mac = reply_id[:-OVERHEAD], reply_id[-TAG_CHARS:]
    return payload if hmac.compare_digest(mac, _mac(payload, key)) else None
