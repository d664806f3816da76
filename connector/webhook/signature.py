"""Meta's webhook signature: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(raw body, app secret).

Only SHA-256 is accepted (Meta also sends a legacy SHA-1 header, which we ignore), and the
comparison is constant-time so the signature cannot be guessed byte by byte from timings.
"""
from __future__ import annotations

import enum
import hashlib
import hmac

HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


class Verdict(enum.Enum):
    MISSING = "missing"
    INVALID = "invalid"
    VALID = "valid"


def sign(body: bytes, secret: str) -> str:
    """The header value Meta would send (the emulator and the tests sign with this)."""
    return _PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> Verdict:
    if not header:
        return Verdict.MISSING
    expected = sign(body, secret)
    # Compare as bytes: compare_digest refuses non-ASCII str, and a garbage header is just wrong.
    given = header.strip().encode("utf-8", "replace")
    if hmac.compare_digest(given, expected.encode()):
        return Verdict.VALID
    return Verdict.INVALID


def tokens_match(given: str | None, expected: str) -> bool:
    """Constant-time check of the hub.verify_token of a subscription request."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())
