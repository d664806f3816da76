"""What an agent may see about the customer: name, a partly masked number, language, consent."""
from __future__ import annotations

from dataclasses import dataclass

from connector.policy.consent import MARKETING, SOURCE_LABELS, Consent

# Country codes we see most, longest first, so "+52 55 …" splits as Mexico, not "+5".
COUNTRY_CODES = ("521", "52", "1", "34", "57", "54", "56", "51", "44", "49", "33")


@dataclass(frozen=True)
class CustomerInfo:
    name: str
    number: str
    language: str
    consent: dict[str, Consent]   # purpose → its state and last change, from the register

    @property
    def marketing(self) -> str:
        return self.consent[MARKETING].state


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


def consent_words(consent: Consent) -> str:
    """"opted out · a message to the business · 2026-12-01 11:40 UTC · customer"."""
    parts = [consent.state.replace("_", " ")]
    if consent.at is not None:
        parts += [SOURCE_LABELS.get(consent.source, consent.source),
                  consent.at.strftime("%Y-%m-%d %H:%M UTC")]
        if consent.by:
            parts.append(consent.by)
    return " · ".join(parts)
