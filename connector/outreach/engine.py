"""Submitting business-initiated template sends, and reading what became of them: the one engine
behind the alerts API (console/api/), the CLI (ops/alerts.py) and campaigns.

A submission is checked whole before anything is stored: every contact's address, the template
with each contact's parameters (connector/policy/templates.py `prepare`, in the customer's
language: the caller's, else the tracker's `language` slot, else the register's order), the time.
A request that is wrong raises RequestError and stores nothing. Then, per contact, consent for
the template's purpose (connector/policy/consent.py): without it the send is stored as "refused"
with the reason, at once, so the caller sees it; with it, "scheduled" at the time asked. The
send-time gate in the sender asks again when the send goes (consent may have changed since).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from core.clock import SYSTEM_CLOCK, Clock
from core.rasa_api import RasaError, RasaHttp
from connector.cloudapi.delivery import DeliveryLog
from connector.policy import contacts
from connector.policy.consent import ConsentRegister
from connector.policy.templates import TemplateError, TemplateRegister
from connector.webhook.identity import Identity
from connector.outreach.store import (
    CANCELLED, DEFERRED, HELD, REFUSED, SCHEDULED, Send, SendStore, Submitted, new_id, to_ms,
)

logger = logging.getLogger(__name__)

MAX_CONTACTS = 1000
MAX_AHEAD = dt.timedelta(days=90)
MAX_KEY_LENGTH = 200
_KEY = re.compile(r"^[\x21-\x7e]{1,%d}$" % MAX_KEY_LENGTH)


class RequestError(ValueError):
    """The request cannot be taken as it is; `problems` says what, per field or contact."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Contact:
    to: str
    params: list = field(default_factory=list)


@dataclass(frozen=True)
class Request:
    template: str
    contacts: list[Contact]
    key: str
    client: str
    language: str | None = None
    send_at: dt.datetime | None = None
    campaign: str = ""

    def fingerprint(self) -> str:
        """What makes two submissions "the same request" for idempotency (numbers as normalized:
        "+52 1 55…" and "52155…" are one contact). Called once the request is checked."""
        canonical = {"template": self.template, "language": self.language or "",
                     "contacts": [[normalize_to(c.to), [str(p) for p in c.params]] for c in self.contacts],
                     "send_at": self.send_at.astimezone(dt.timezone.utc).isoformat() if self.send_at else "",
                     "campaign": self.campaign}
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Result:
    batch: str
    sends: list[Send]
    existing: bool


def normalize_to(to: Any) -> str:
    """The address as WhatsApp ids are written (connector/policy/contacts.py owns the rule)."""
    return contacts.normalize(to)


def send_view(send: Send, delivery: dict | None = None) -> dict:
    """A send as the API, the CLI and the console show it (JSON-ready)."""
    view = {"id": send.id, "to": send.to, "contact": send.contact, "template": send.template,
            "language": send.language, "purpose": send.purpose, "state": send.state,
            "reason": send.reason or None, "due": _iso(send.due), "created": _iso(send.created),
            "updated": _iso(send.updated), "sent_at": _iso(send.sent_at), "wamid": send.wamid or None,
            "batch": send.batch, "campaign": send.campaign or None, "retries": send.retries}
    if delivery is not None:
        times = {name[:-3]: _iso(dt.datetime.fromtimestamp(int(value), dt.timezone.utc))
                 for name, value in delivery.items()
                 if name.endswith("_at") and name != "sent_by_us_at" and str(value).isdigit() and int(value)}
        view["delivery"] = {"status": delivery.get("status"), "times": times,
                            "error": delivery.get("error") or None}
    return view


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at else None


class Outreach:
    def __init__(self, redis, clock: Clock = SYSTEM_CLOCK, *, rasa: RasaHttp | None = None,
                 templates: TemplateRegister | None = None, consent: ConsentRegister | None = None,
                 languages: Callable[[str], str | None] | None = None) -> None:
        self.clock = clock
        self.store = SendStore(redis, clock)
        self.templates = templates or TemplateRegister(redis, clock)
        self.consent = consent or ConsentRegister(redis, clock)
        self.identity = Identity(redis)
        self.delivery = DeliveryLog(redis, clock)
        self.rasa = rasa
        self._languages = languages or self._tracker_language

    def submit(self, request: Request) -> Result:
        """Store the request's sends (or return those of an earlier one with its key). Raises
        RequestError (nothing stored) or store.IdempotencyConflict."""
        problems = self._check(request)
        if problems:
            raise RequestError(problems)
        now = self.clock.now()
        due = max(request.send_at or now, now)
        sends, problems = [], []
        for index, contact in enumerate(request.contacts):
            to = normalize_to(contact.to)
            conv = self.identity.lookup(to) or to
            try:
                prepared = self.templates.prepare(request.template, request.language or self._languages(conv),
                                                  list(contact.params))
            except TemplateError as exc:
                problems.append(f"contacts[{index}] ({to}): {exc}")
                continue
            template = prepared.template
            decision = self.consent.allows(conv, template.purpose)
            sends.append({
                "id": new_id(), "to": to, "contact": conv, "template": template.name,
                "language": template.language, "params": json.dumps([str(p) for p in contact.params]),
                "purpose": template.purpose, "category": template.category,
                "body": json.dumps(prepared.body, ensure_ascii=False), "text": prepared.text,
                "due": to_ms(due), "campaign": request.campaign,
                "state": SCHEDULED if decision.allowed else REFUSED,
                "reason": "" if decision.allowed else decision.reason,
            })
        if problems:
            raise RequestError(problems)
        submitted = self.store.submit(request.client, request.key, request.fingerprint(), sends)
        self._report_refusals(submitted, sends)
        return Result(submitted.batch, [s for s in self.store.many(submitted.ids) if s is not None],
                      submitted.existing)

    def status(self, send_id: str) -> dict | None:
        send = self.store.get(send_id)
        if send is None:
            return None
        return send_view(send, self.delivery.get(send.wamid) if send.wamid else None)

    def cancel(self, send_id: str, by: str) -> bool:
        """Cancel a send that has not started; False when it has (or does not exist)."""
        return self.store.move(send_id, (SCHEDULED, DEFERRED, HELD), CANCELLED, f"cancelled by {by}")

    def _check(self, request: Request) -> list[str]:
        problems = []
        if not isinstance(request.template, str) or not request.template.strip():
            problems.append("template: the template's name is required")
        if not isinstance(request.key, str) or not _KEY.match(request.key):
            problems.append(f"idempotency_key: 1 to {MAX_KEY_LENGTH} visible ASCII characters, required")
        if not request.contacts:
            problems.append("contacts: at least one contact is required")
        elif len(request.contacts) > MAX_CONTACTS:
            problems.append(f"contacts: at most {MAX_CONTACTS} per request")
        for index, contact in enumerate(request.contacts[:MAX_CONTACTS]):
            try:
                normalize_to(contact.to)
            except ValueError as exc:
                problems.append(f"contacts[{index}].to: {exc}")
            if not isinstance(contact.params, list):
                problems.append(f"contacts[{index}].params: a list of values")
        if request.send_at is not None:
            if request.send_at.tzinfo is None:
                problems.append("send_at: give a time zone (e.g. 2026-05-01T09:00:00-06:00 or …Z)")
            elif request.send_at > self.clock.now() + MAX_AHEAD:
                problems.append(f"send_at: at most {MAX_AHEAD.days} days ahead")
        return problems

    def _tracker_language(self, conv: str) -> str | None:
        if self.rasa is None:
            return None
        try:
            language = self.rasa.slots(conv).get("language")
        except RasaError as exc:
            # The register's default order still picks a translation; say why it was not the customer's.
            logger.warning("language of %s unknown (%s); the template register's order decides", conv, exc)
            return None
        return language if isinstance(language, str) and language else None

    def _report_refusals(self, submitted: Submitted, sends: list[dict]) -> None:
        """A refusal is put where people look at failures (once: not for a repeated request)."""
        if submitted.existing:
            return
        for send in sends:
            if send["state"] == REFUSED:
                self.delivery.record_failure(send["contact"], json.loads(send["body"]), "no_consent",
                                             send["reason"], f"send {send['id']}", kind="refused")
