"""The number's and the account's standing, as Meta's webhooks report it: the
`phone_number_quality_update` and `account_update` fields, parsed into frozen events for
connector/policy/quality.py (inbound.parse_webhook dispatches here; Intake records them).

Neither value carries its own time, so each is dated by its entry's `time` (when Meta triggered
the webhook), which keeps out-of-order deliveries in their true order. The messaging limit is
read from `max_daily_conversations_per_business`, the portfolio's limit that replaces the
deprecated `current_limit` (still read when it is the only one). Meta's quality value has no
rating today; a `quality_rating` (GREEN/YELLOW/RED), as some relays add, is read when present.

They are not filtered to our number (webhook/endpoint.py's _for_number): the messaging limit is
the business portfolio's, account updates concern the whole account, and a quality update names
its number only by display number, which our configuration does not hold.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

# A module import, not names: inbound imports this module to dispatch to it.
from connector.webhook import inbound
from connector.webhook.types import Rejected

QUALITY_FIELD = "phone_number_quality_update"
ACCOUNT_FIELD = "account_update"
FIELDS = (QUALITY_FIELD, ACCOUNT_FIELD)
# account_update's parts worth keeping (the rest is partner/pricing bookkeeping).
ACCOUNT_DETAILS = ("ban_info", "restriction_info", "violation_info", "lock_info", "disconnection_info",
                   "waba_info", "country")
NO_TIER = "TIER_NOT_SET"


@dataclass(frozen=True)
class QualityUpdate:
    event: str                      # FLAGGED | UNFLAGGED | UPGRADE | DOWNGRADE | THROUGHPUT_UPGRADE | ONBOARDING | …
    timestamp: dt.datetime | None   # the entry's time
    current_limit: str | None = None  # a TIER_* name, None when not set
    old_limit: str | None = None
    rating: str | None = None
    display_phone_number: str | None = None
    waba_id: str | None = None


@dataclass(frozen=True)
class AccountUpdate:
    event: str                      # ACCOUNT_RESTRICTION | ACCOUNT_VIOLATION | DISABLED_UPDATE | ACCOUNT_DELETED | …
    timestamp: dt.datetime | None
    details: Mapping[str, Any] = field(default_factory=dict)  # ban_info, restriction_info, …
    waba_id: str | None = None


def parse_change(name: str, value: dict, entry: dict, batch: dict[str, list]) -> None:
    """One change of FIELDS into batch["account"] (or batch["rejected"])."""
    event = inbound._str(value.get("event"))
    if not event:
        batch["rejected"].append(Rejected(None, f"{name} without an event"))
        return
    at, waba_id = inbound._time(entry.get("time")), inbound._str(entry.get("id"))
    if name == QUALITY_FIELD:
        limit = _tier(value.get("max_daily_conversations_per_business")) or _tier(value.get("current_limit"))
        rating = inbound._str(value.get("quality_rating"))
        batch["account"].append(QualityUpdate(
            event=event.upper(), timestamp=at, current_limit=limit, old_limit=_tier(value.get("old_limit")),
            rating=rating.upper() if rating else None,
            display_phone_number=inbound._str(value.get("display_phone_number")), waba_id=waba_id))
    else:
        details = {key: value[key] for key in ACCOUNT_DETAILS if value.get(key) not in (None, "", [], {})}
        try:
            inbound._check_storable(details)  # recorded as JSON that Redis's cjson decodes
        except inbound.PayloadError as exc:
            batch["rejected"].append(Rejected(None, f"{name} {event}: {exc}"))
            return
        batch["account"].append(AccountUpdate(event=event.upper(), timestamp=at, details=details, waba_id=waba_id))


def _tier(value: Any) -> str | None:
    text = inbound._str(value)
    return text.upper() if text and text.upper() != NO_TIER else None
