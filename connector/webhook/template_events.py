"""Meta's template webhooks (`message_template_status_update`, `message_template_quality_update`)
→ typed events (types.py). They are account-level: the value names the template and its
language, and the entry's `time` says when Meta made the change, which the register orders by.
Pure functions, lenient like inbound.py: a change without a template name or language is
rejected on its own.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from connector.webhook.types import Rejected, TemplateQualityUpdate, TemplateStatusUpdate

STATUS_FIELD = "message_template_status_update"
QUALITY_FIELD = "message_template_quality_update"
FIELDS = (STATUS_FIELD, QUALITY_FIELD)


def parse(field: str, value: Any, entry: dict, batch: dict[str, list], *,
          text: Callable[[Any], str | None], time: Callable[[Any], dt.datetime | None]) -> None:
    """Add the change's event to `batch` (inbound.parse_webhook's lists). `text` and `time` are
    inbound.py's readers of Meta's loose ids and Unix seconds, so both parse them alike."""
    statuses, qualities = batch.setdefault("template_statuses", []), batch.setdefault("template_qualities", [])
    if not isinstance(value, dict):
        batch["rejected"].append(Rejected(None, f"{field} without a value object"))
        return
    name, language = text(value.get("message_template_name")), text(value.get("message_template_language"))
    if not (name and language):
        batch["rejected"].append(Rejected(None, f"{field} without a template name and language"))
        return
    template_id, at = text(value.get("message_template_id")), time(entry.get("time"))
    if field == STATUS_FIELD:
        event = text(value.get("event"))
        if not event:
            batch["rejected"].append(Rejected(None, f"{field} for {name} without an event"))
            return
        other = value.get("other_info") if isinstance(value.get("other_info"), dict) else {}
        reason = text(value.get("reason"))
        statuses.append(TemplateStatusUpdate(
            template_id=template_id, name=name, language=language, event=event.upper(), timestamp=at,
            reason=None if reason in (None, "NONE") else reason,
            category=text(value.get("message_template_category")),
            detail=text(other.get("description")) or text(other.get("title"))))
        return
    quality = text(value.get("new_quality_score"))
    if not quality:
        batch["rejected"].append(Rejected(None, f"{field} for {name} without new_quality_score"))
        return
    qualities.append(TemplateQualityUpdate(
        template_id=template_id, name=name, language=language,
        previous=text(value.get("previous_quality_score")), quality=quality.upper(), timestamp=at))
