"""The consent register: whether a contact agreed to hear from the business, for what, since
when and how. The one place that answers "may we message this contact for this purpose?"
(`ConsentRegister.allows`); every business-initiated send asks it.

WhatsApp requires an opt-in before a business starts a conversation, and separately for
marketing, and an opt-out must be honoured at once. So, per contact (the conversation id:
the wa_id, or the BSUID when the number is hidden) and per purpose (PURPOSES), the register
holds the current state (opted in / opted out; nothing recorded = unknown) with when, how
(SOURCES) and who or what recorded it, plus the history of every change, oldest kept up to
HISTORY_MAX.

Changes are dated by when they happened (the customer's message, Meta's webhook, the CSV's
`at`), not when they reached us: the newest wins, so a late webhook or an old import never
overrides a newer choice (it still goes into the history). A change carrying the same `ref`
(the wamid of the message, the webhook's identity) as the current state is a redelivery and
changes nothing.

Keys (owned here), all under the hash tag {consent}: a change, its history and the contacts
index are written by one script, which on Redis Cluster must touch one slot. The register lives
on one node of a cluster (consent changes come at the pace of people and imports); splitting
the index from the contact's keys would let a crash leave a change out of the export.
  consent:{consent}:contact:<contact>  hash: purpose → JSON {state, at (epoch ms), source, by, ref}
  consent:{consent}:log:<contact>      list, newest first: JSON {purpose, state, at, source, by,
                                       ref, recorded_at, applied}; trimmed to HISTORY_MAX
  consent:{consent}:contacts           sorted set: contact → epoch ms of its newest change
                                       (export, lookups)
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Iterator

from core.clock import SYSTEM_CLOCK, Clock

TRANSACTIONAL, MARKETING = "transactional", "marketing"
PURPOSES = (TRANSACTIONAL, MARKETING)
OPTED_IN, OPTED_OUT, UNKNOWN = "opted_in", "opted_out", "unknown"
STATES = (OPTED_IN, OPTED_OUT)
# How a change reached us: a web form, a message to the business (STOP, ALTA…), a QR code, a
# CSV import, an agent or lead in the console, a template's opt-out button, the customer's
# WhatsApp settings (Meta's user_preferences webhook).
SOURCE_LABELS = {
    "web_form": "a web form", "message": "a message to the business", "qr": "a QR code",
    "import": "an import", "console": "the console", "template_button": "a template's button",
    "whatsapp_settings": "the customer's WhatsApp settings",
}
SOURCES = tuple(SOURCE_LABELS)
# Meta's user_preferences webhook: the customer's choice in WhatsApp's "Offers and
# announcements" setting, for the one category it reports.
WHATSAPP_PREFERENCES = {"marketing_messages": MARKETING}
WHATSAPP_CHOICES = {"stop": OPTED_OUT, "resume": OPTED_IN}
# Generous: a contact changing their mind daily for three years.
HISTORY_MAX = 1000
# A time ahead of our clock is believed only this far (clock skew); beyond, it is "now": a
# far-future change would otherwise win over every real one that follows.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

# KEYS: state hash, log, contacts. ARGV: purpose, state JSON, at ms, log entry (without
# "applied"), ref, history max, contact. Returns 1 applied, 2 history only (older than the
# current state), 0 a redelivery of the current state.
_RECORD = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
local applied = 1
if current then
  local c = cjson.decode(current)
  if ARGV[5] ~= '' and c.ref == ARGV[5] then return 0 end
  if tonumber(c.at) > tonumber(ARGV[3]) then applied = 2 end
end
if applied == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  local newest = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[7]) or '0')
  if tonumber(ARGV[3]) > newest then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[7]) end
end
local entry = cjson.decode(ARGV[4])
entry.applied = (applied == 1)
redis.call('LPUSH', KEYS[2], cjson.encode(entry))
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - 1)
return applied
"""

CONTACTS_KEY = "consent:{consent}:contacts"


def _key(contact: str) -> str:
    return f"consent:{{consent}}:contact:{contact}"


def _log_key(contact: str) -> str:
    return f"consent:{{consent}}:log:{contact}"


@dataclass(frozen=True)
class Consent:
    """One purpose's state for a contact, or one change in its history."""

    purpose: str
    state: str                   # OPTED_IN | OPTED_OUT | UNKNOWN
    at: dt.datetime | None = None
    source: str = ""             # one of SOURCES ("" when unknown)
    by: str = ""                 # who or what recorded it: "customer", an agent, a file
    ref: str = ""                # the message / webhook / row it came from
    applied: bool = True         # history only: False when a newer state already stood

    def as_dict(self) -> dict:
        return {"purpose": self.purpose, "state": self.state,
                "at": self.at.isoformat() if self.at else None, "source": self.source,
                "by": self.by, "ref": self.ref, "applied": self.applied}


@dataclass(frozen=True)
class Decision:
    """The answer to "may the business message this contact for this purpose?"."""

    allowed: bool
    contact: str
    purpose: str
    consent: Consent

    @property
    def reason(self) -> str:
        """Why, in words a person reads in a refusal."""
        if self.allowed:
            return f"{self.purpose}: opted in ({self.consent.source})"
        if self.consent.state == OPTED_OUT:
            return f"{self.purpose}: the contact opted out ({self.consent.source})"
        return f"{self.purpose}: no opt-in recorded for this contact"


def _to_ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def _from_ms(value) -> dt.datetime | None:
    if value in (None, ""):
        return None
    return dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.timezone.utc)


def _consent(data: dict, purpose: str | None = None) -> Consent:
    return Consent(purpose=purpose or data["purpose"], state=data["state"], at=_from_ms(data.get("at")),
                   source=data.get("source") or "", by=data.get("by") or "",
                   ref=data.get("ref") or "", applied=bool(data.get("applied", True)))


def check(purpose: str, state: str, source: str) -> None:
    """Raise ValueError unless these are names the register knows."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r} (one of {', '.join(PURPOSES)})")
    if state not in STATES:
        raise ValueError(f"unknown state {state!r} (one of {', '.join(STATES)})")
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r} (one of {', '.join(SOURCES)})")


class ConsentRegister:
    def __init__(self, redis, clock: Clock = SYSTEM_CLOCK) -> None:
        self.redis = redis
        self.clock = clock
        self._record = redis.register_script(_RECORD)

    def record(self, contact: str, purpose: str, state: str, source: str, *,
               at: dt.datetime | None = None, by: str = "", ref: str = "") -> bool:
        """A change for `contact` that happened at `at` (default now). True when it is now the
        contact's state; False when a newer change stands (kept in the history) or it is a
        redelivery of the current one (same `ref`, not recorded again)."""
        if not contact:
            raise ValueError("consent needs a contact id")
        check(purpose, state, source)
        if at is not None and at.tzinfo is None:
            raise ValueError("consent times must be timezone-aware")
        now = self.clock.now()
        at = now if at is None or at > now + FUTURE_TOLERANCE else at
        at_ms = _to_ms(at)
        current = {"state": state, "at": at_ms, "source": source, "by": by, "ref": ref}
        entry = {"purpose": purpose, **current, "recorded_at": _to_ms(now)}
        result = self._record(
            keys=[_key(contact), _log_key(contact), CONTACTS_KEY],
            args=[purpose, json.dumps(current), at_ms, json.dumps(entry), ref, HISTORY_MAX, contact])
        return int(result) == 1

    def status(self, contact: str) -> dict[str, Consent]:
        """Every purpose's current state (UNKNOWN where nothing was recorded)."""
        stored = self.redis.hgetall(_key(contact))
        return {purpose: _consent(json.loads(stored[purpose]), purpose) if purpose in stored
                else Consent(purpose, UNKNOWN) for purpose in PURPOSES}

    def allows(self, contact: str, purpose: str) -> Decision:
        """Business-initiated messages need an opt-in for their purpose: an opt-out or no
        record at all is a refusal. Transactional consent does not cover marketing, nor the
        other way round."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r} (one of {', '.join(PURPOSES)})")
        consent = self.status(contact)[purpose]
        return Decision(consent.state == OPTED_IN, contact, purpose, consent)

    def history(self, contact: str, limit: int = HISTORY_MAX) -> list[Consent]:
        """The contact's changes, newest first (including those a newer one outranked)."""
        return [_consent(json.loads(raw)) for raw in self.redis.lrange(_log_key(contact), 0, limit - 1)]

    def contacts(self, batch: int = 500) -> Iterator[str]:
        """Every contact with a recorded change, oldest change first."""
        start = 0
        while True:
            chunk = self.redis.zrange(CONTACTS_KEY, start, start + batch - 1)
            yield from chunk
            if len(chunk) < batch:
                return
            start += batch

    def recent(self, offset: int = 0, limit: int = 50) -> tuple[int, list[tuple[str, dt.datetime]]]:
        """(how many contacts have a change, a page of them newest change first with its time)."""
        page = self.redis.zrevrange(CONTACTS_KEY, offset, offset + limit - 1, withscores=True)
        return self.redis.zcard(CONTACTS_KEY), [(contact, _from_ms(int(ms))) for contact, ms in page]
