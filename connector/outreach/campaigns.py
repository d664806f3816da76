"""Campaigns: one approved marketing template to an audience, at a time, with its results.

A campaign is a set of ordinary sends (engine.py), one per contact, submitted with the idempotency
key "the contact" in the campaign's own scope: a contact listed twice, a repeated submission or a
resumed campaign never makes a second send to anyone. Contacts without a marketing opt-in are
stored as refused with the reason (the engine asks consent), so the lead sees who was left out
and why. The sends go through the worker and the sender like any alert, so the messaging tier,
the throughput limit and a marketing pause pace them.

Stopping holds every send not yet started (store.HELD; one being posted finishes); resuming puts
the held ones back on the schedule, due at once if their time has passed. Results are read live:
states, Meta's delivery statuses (wa:out:{wamid}), replies (the window's last inbound after the
send) and opt-outs after the send (the consent history).

Keys (owned here):
  campaign:{id}          hash: id, name, template, language, params (JSON), at (epoch ms), by,
                         created (epoch ms), state (active | stopped), changed_by, changed (epoch ms)
  campaign:{id}:sends    hash: contact → send id
  campaigns              sorted set: id → created epoch ms
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Iterable

from connector.policy.consent import MARKETING, OPTED_OUT
from connector.policy.templates import TemplateError
from connector.policy.window import ServiceWindow
from connector.outreach.engine import Contact, Outreach, Request, RequestError, normalize_to
from connector.outreach.store import DEFERRED, HELD, SCHEDULED, Send, from_ms, to_ms

INDEX = "campaigns"
ACTIVE, STOPPED = "active", "stopped"


def _key(campaign_id: str) -> str:
    return f"campaign:{campaign_id}"


def _sends_key(campaign_id: str) -> str:
    return f"campaign:{campaign_id}:sends"


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    template: str
    language: str
    params: list
    at: dt.datetime
    by: str
    created: dt.datetime
    state: str
    changed_by: str = ""


@dataclass
class Results:
    total: int = 0
    states: dict | None = None      # send state → count
    delivered: int = 0
    read: int = 0
    failed: int = 0                 # Meta's failed status, or the send failed
    replied: int = 0
    opted_out: int = 0

    def as_dict(self) -> dict:
        return {"total": self.total, "states": self.states or {}, "delivered": self.delivered,
                "read": self.read, "failed": self.failed, "replied": self.replied, "opted_out": self.opted_out}


class Campaigns:
    def __init__(self, outreach: Outreach) -> None:
        self.outreach = outreach
        self.redis = outreach.store.redis
        self.clock = outreach.clock
        self.window = ServiceWindow(self.redis, self.clock)

    def audience_from_register(self) -> list[str]:
        """Every contact with a marketing opt-in now."""
        consent = self.outreach.consent
        return [c for c in consent.contacts() if consent.allows(c, MARKETING).allowed]

    def create(self, name: str, template: str, language: str, params: list, audience: Iterable[Contact],
               at: dt.datetime | None, by: str) -> tuple[Campaign, list[Send]]:
        """Store the campaign and one send per contact (a contact's own params override the
        campaign's). Raises RequestError when the template is not an approved marketing one or
        a contact's parameters do not fit (nothing is stored)."""
        try:
            chosen = self.outreach.templates.pick(template, language)
        except TemplateError as exc:
            raise RequestError([f"template: {exc}"]) from None
        if chosen.category != MARKETING:
            raise RequestError([f"template: {chosen.name} is a {chosen.category} template; campaigns send marketing ones"])
        contacts, seen, problems = [], set(), []
        for contact in audience:  # once per person, however often listed (the first one counts)
            try:
                to = normalize_to(contact.to)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            if to not in seen:
                seen.add(to)
                contacts.append(Contact(to, list(contact.params) or list(params)))
        if problems:
            raise RequestError(problems)
        if not name.strip():
            raise RequestError(["name: give the campaign a name"])
        if not contacts:
            raise RequestError(["audience: nobody to send to"])
        for contact in contacts:  # every contact checked before anything is stored
            try:
                self.outreach.templates.prepare(chosen.name, chosen.language, contact.params)
            except TemplateError as exc:
                raise RequestError([f"{contact.to}: {exc}"]) from None
        now = self.clock.now()
        campaign = Campaign("c_" + uuid.uuid4().hex[:16], name.strip(), chosen.name, chosen.language,
                            list(params), max(at or now, now), by, now, ACTIVE)
        self.redis.hset(_key(campaign.id), mapping={
            "id": campaign.id, "name": campaign.name, "template": campaign.template,
            "language": campaign.language, "params": json.dumps(campaign.params),
            "at": to_ms(campaign.at), "by": by, "created": to_ms(now), "state": ACTIVE})
        self.redis.zadd(INDEX, {campaign.id: to_ms(now)})
        sends = []
        for contact in contacts:
            sends.extend(self._submit(campaign, contact))
        return campaign, sends

    def _submit(self, campaign: Campaign, contact: Contact) -> list[Send]:
        request = Request(campaign.template, [contact], key=contact.to, client=f"campaign:{campaign.id}",
                          language=campaign.language, send_at=campaign.at, campaign=campaign.id)
        result = self.outreach.submit(request)
        self.redis.hsetnx(_sends_key(campaign.id), result.sends[0].contact, result.sends[0].id)
        return result.sends

    def get(self, campaign_id: str) -> Campaign | None:
        data = self.redis.hgetall(_key(campaign_id))
        if not data:
            return None
        return Campaign(data["id"], data["name"], data["template"], data["language"],
                        json.loads(data.get("params") or "[]"), from_ms(data["at"]), data.get("by", ""),
                        from_ms(data["created"]), data.get("state", ACTIVE), data.get("changed_by", ""))

    def all(self) -> list[Campaign]:
        return [c for c in map(self.get, self.redis.zrevrange(INDEX, 0, 199)) if c is not None]

    def sends(self, campaign_id: str) -> list[Send]:
        ids = self.redis.hvals(_sends_key(campaign_id))
        return sorted(filter(None, self.outreach.store.many(ids)), key=lambda s: s.to)

    def stop(self, campaign_id: str, by: str) -> int:
        """Hold every send not yet started; how many were held."""
        self._set_state(campaign_id, STOPPED, by)
        return sum(self.outreach.store.move(s.id, (SCHEDULED, DEFERRED), HELD, f"campaign stopped by {by}")
                   for s in self.sends(campaign_id))

    def resume(self, campaign_id: str, by: str) -> int:
        """Put the held sends back on the schedule; how many."""
        self._set_state(campaign_id, ACTIVE, by)
        return sum(self.outreach.store.move(s.id, (HELD,), SCHEDULED, "") for s in self.sends(campaign_id))

    def _set_state(self, campaign_id: str, state: str, by: str) -> None:
        if not self.redis.exists(_key(campaign_id)):
            raise KeyError(campaign_id)
        self.redis.hset(_key(campaign_id), mapping={"state": state, "changed_by": by,
                                                   "changed": self.outreach.store.now_ms()})

    def results(self, campaign_id: str, sends: list[Send] | None = None) -> Results:
        sends = self.sends(campaign_id) if sends is None else sends
        results = Results(total=len(sends), states={})
        for send in sends:
            results.states[send.state] = results.states.get(send.state, 0) + 1
            outcome = self.outcome(send)
            results.delivered += outcome["delivery"] in ("delivered", "read")
            results.read += outcome["delivery"] == "read"
            results.failed += outcome["delivery"] == "failed" or send.state == "failed"
            results.replied += outcome["replied"]
            results.opted_out += outcome["opted_out"]
        return results

    def outcome(self, send: Send) -> dict:
        """What became of one send after it went: Meta's status, a reply, an opt-out."""
        if not send.wamid or send.sent_at is None:
            return {"delivery": None, "replied": False, "opted_out": False}
        record = self.outreach.delivery.get(send.wamid) or {}
        last_inbound = self.window.status(send.contact).last_inbound_at
        opted_out = any(change.purpose == MARKETING and change.state == OPTED_OUT and change.at
                        and change.at >= send.sent_at for change in self.outreach.consent.history(send.contact, 50))
        return {"delivery": record.get("status"), "replied": bool(last_inbound and last_inbound > send.sent_at),
                "opted_out": opted_out}
