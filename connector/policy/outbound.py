"""May this template go to this contact now? The one answer for every business-initiated send.

Every template leaves through connector/cloudapi/sender.py, whoever sent it (the alerts API, the
CLI, a campaign, an agent in the console, the bot), and the sender asks this gate first, so no
path can skip a rule. The rules, in the order they are asked:

1. The template is in the register and approved (connector/policy/templates.py): Meta would
   reject it anyway, and a paused template sent regardless costs quality.
2. Consent (connector/policy/consent.py): a marketing template always needs a marketing opt-in;
   a utility or authentication template needs a transactional opt-in unless the customer is
   inside their 24 h window, where it is a reply to them rather than the business starting a
   conversation.
3. Marketing waits while the number's quality is low (connector/policy/quality.py) until a lead
   resumes it.
4. The messaging tier (connector/policy/tier.py) counts the unique contacts reached by
   business-initiated messages, i.e. outside the window, in a moving 24 h. It is asked last,
   because reserving counts the contact: a message refused for another reason must not use a
   slot.

Refusals never go, whatever happens later; deferrals go later (at `retry_at`, or once a person
acts) and the caller keeps them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from core.clock import SYSTEM_CLOCK, Clock
from connector.policy.consent import MARKETING, ConsentRegister
from connector.policy.quality import QualityRegister
from connector.policy.templates import TemplateRegister
from connector.policy.tier import MessagingTier
from connector.policy.window import ServiceWindow

SEND, REFUSE, DEFER = "send", "refuse", "defer"
# Why, in a word the sender maps to its error classes.
TEMPLATE, NO_CONSENT, MARKETING_PAUSED, TIER = "template", "no_consent", "marketing_paused", "tier"


@dataclass(frozen=True)
class Verdict:
    outcome: str                        # SEND | REFUSE | DEFER
    kind: str = ""                      # TEMPLATE | NO_CONSENT | MARKETING_PAUSED | TIER
    reason: str = ""                    # for the person or program that asked
    retry_at: dt.datetime | None = None  # DEFER only; None: when a person acts


GO = Verdict(SEND)


class BusinessInitiated:
    def __init__(self, consent: ConsentRegister, templates: TemplateRegister, tier: MessagingTier,
                 quality: QualityRegister, window: ServiceWindow) -> None:
        self.consent = consent
        self.templates = templates
        self.tier = tier
        self.quality = quality
        self.window = window

    @classmethod
    def on(cls, redis, clock: Clock = SYSTEM_CLOCK, window: ServiceWindow | None = None) -> "BusinessInitiated":
        return cls(ConsentRegister(redis, clock), TemplateRegister(redis, clock), MessagingTier(redis, clock),
                   QualityRegister(redis, clock), window or ServiceWindow(redis, clock))

    def check(self, contact: str, template_object: Mapping, *, reserve: bool = True) -> Verdict:
        """The verdict for sending the Cloud API `template` object to `contact` now. A SEND
        outside the window has counted the contact in the tier. `reserve=False` asks every rule
        but the tier and counts nothing: a form's early answer to the person sending, before
        the send itself asks again."""
        name = str(template_object.get("name", "?"))
        language = str((template_object.get("language") or {}).get("code", "?"))
        template = self.templates.of_body(template_object)
        if template is None:
            return Verdict(REFUSE, TEMPLATE, f"template {name} ({language}) is not in the register")
        if not template.approved:
            return Verdict(REFUSE, TEMPLATE, f"template {name} ({language}) is {template.status}, not approved")
        purpose = template.purpose
        in_window = self.window.status(contact).open
        if purpose == MARKETING or not in_window:
            decision = self.consent.allows(contact, purpose)
            if not decision.allowed:
                return Verdict(REFUSE, NO_CONSENT, decision.reason)
        if purpose == MARKETING:
            pause = self.quality.marketing_pause()
            if pause is not None:
                return Verdict(DEFER, MARKETING_PAUSED,
                               f"marketing is paused since {pause.since:%Y-%m-%d %H:%M} UTC ({pause.reason}) "
                               "until a lead resumes it")
        if in_window or not reserve:
            return GO
        decision = self.tier.reserve(contact)
        if not decision.allowed:
            return Verdict(DEFER, TIER,
                           f"the messaging tier's {decision.limit} unique contacts in 24 h are reached",
                           decision.retry_at)
        return GO
