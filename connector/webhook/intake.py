"""One parsed webhook → identity updates, queued messages, recorded statuses and preferences."""
from __future__ import annotations

import logging
from typing import Any, Iterable

from connector.inbox.queue import Ingest
from connector.policy.consent import WHATSAPP_CHOICES, WHATSAPP_PREFERENCES, ConsentRegister
from connector.policy.quality import QualityRegister
from connector.policy.templates import QUALITIES, TemplateRegister, meta_status
from connector.policy.window import closes_window
from connector.webhook.account import AccountUpdate, QualityUpdate
from connector.webhook.identity import Identity
from connector.webhook.metrics import MESSAGES, count_status
from connector.webhook.types import (
    PreferenceUpdate, StatusUpdate, TemplateQualityUpdate, TemplateStatusUpdate, WebhookBatch,
)

logger = logging.getLogger(__name__)


class Intake:
    """One parsed webhook → identity updates, queued messages, recorded statuses.

    Runs before the HTTP answer; any Redis error propagates so the webhook answers 503 and
    Meta retries (duplicates of what did get stored are then dropped by the dedupe)."""

    def __init__(self, ingest: Ingest, identity: Identity, delivery: Any = None, window: Any = None,
                 consent: ConsentRegister | None = None, quality: QualityRegister | None = None,
                 templates: TemplateRegister | None = None) -> None:
        self.ingest = ingest
        self.identity = identity
        self.delivery = delivery
        self.window = window
        self.consent = consent
        self.quality = quality
        self.templates = templates

    def accept(self, batch: WebhookBatch) -> int:
        queued = 0
        for message in batch.messages:
            if message.truncated:
                logger.info("text of %s cut to WhatsApp's limit before NLU", message.wamid)
            if self.ingest.state(message.wamid) is not None:
                # A redelivery (Meta retries what got no 200, in any order): its sender ids may
                # be stale by now, e.g. the number before a change, so it must not touch identity.
                logger.info("duplicate delivery of %s ignored", message.wamid)
                MESSAGES.labels("duplicate").inc()
                continue
            if message.kind == "system" and (message.new_wa_id or message.new_user_id):
                # Applied now, not by the worker, so messages from the new number that follow
                # in this or the next webhook already land in the same conversation.
                conv = self.identity.change_number(message.sender, message.new_wa_id, message.new_user_id)
            else:
                conv = self.identity.resolve(message.sender)
            if self.ingest.enqueue(conv, message.wamid, message.envelope):
                queued += 1
                MESSAGES.labels("queued").inc()
            else:
                logger.info("duplicate delivery of %s ignored", message.wamid)
                MESSAGES.labels("duplicate").inc()
        self.record_statuses(batch.statuses)
        self.record_preferences(batch.preferences)
        self.record_account(batch.account)
        self.record_templates(batch.template_statuses, batch.template_qualities)
        for ignored in batch.ignored:
            logger.info("webhook: ignored %s: %s", ignored.field, ignored.reason)
        for rejected in batch.rejected:
            logger.warning("webhook: rejected %s: %s", rejected.wamid or "an item", rejected.reason)
        for error in batch.errors:
            logger.warning("webhook reports error %s: %s %s", error.code, error.title, error.details or "")
        return queued

    def record_preferences(self, preferences: Iterable[PreferenceUpdate]) -> None:
        """The customer's own WhatsApp settings, into the consent register before the 200 (a
        Redis error means 503 and Meta's retry; the retry's same ref is not recorded twice)."""
        for update in preferences:
            purpose, state = WHATSAPP_PREFERENCES.get(update.category), WHATSAPP_CHOICES.get(update.value)
            if purpose is None or state is None or self.consent is None:
                logger.info("webhook: user preference %s=%s ignored", update.category, update.value)
                continue
            contact = self.identity.lookup(update.wa_id) or update.wa_id
            at = update.timestamp
            self.consent.record(contact, purpose, state, "whatsapp_settings", at=at, by="WhatsApp",
                                ref=f"user_preferences:{update.category}:{update.value}:{at.isoformat() if at else ''}")

    def record_account(self, updates: Iterable[QualityUpdate | AccountUpdate]) -> None:
        """Quality and account updates, recorded before the 200 like preferences (a retry is
        recognised by the register and not recorded twice)."""
        for update in updates:
            if self.quality is None:
                logger.info("webhook: %s %s not recorded (no quality register)", type(update).__name__, update.event)
            elif isinstance(update, QualityUpdate):
                logger.warning("webhook: phone number quality %s (limit %s)", update.event, update.current_limit)
                self.quality.record_quality(update.event, at=update.timestamp, current_limit=update.current_limit or "",
                                            rating=update.rating or "")
            else:
                logger.warning("webhook: account update %s %s", update.event, dict(update.details))
                self.quality.record_account(update.event, at=update.timestamp, details=update.details)

    def record_templates(self, statuses: Iterable[TemplateStatusUpdate],
                         qualities: Iterable[TemplateQualityUpdate]) -> None:
        """Meta's word on a template, into the register before the 200; dated by the entry's
        time, so a late or repeated webhook changes nothing (its ref is the same)."""
        for update in statuses:
            status = meta_status(update.event)
            if status is None or self.templates is None:
                logger.info("webhook: template %s:%s %s ignored", update.name, update.language, update.event)
                continue
            reason = update.reason or update.detail or ""
            self.templates.record_status(update.name, update.language, status, reason=reason,
                                         at=update.timestamp, ref=update.ref)
        for update in qualities:
            quality = update.quality.lower()
            if self.templates is None or quality not in QUALITIES:
                logger.info("webhook: template %s:%s quality %s ignored", update.name, update.language, update.quality)
                continue
            self.templates.record_quality(update.name, update.language, quality, at=update.timestamp, ref=update.ref)

    def record_statuses(self, statuses: Iterable[StatusUpdate]) -> None:
        for status in statuses:
            if self.delivery is not None:
                self.delivery.record_status(status)
            if status.status == "failed" and closes_window(status.error_codes) and self.window is not None:
                conv = self.identity.lookup(status.recipient_id, status.recipient_user_id) or status.recipient_key
                if conv:
                    # Dated when Meta failed the message, not when the webhook reached us.
                    self.window.close(conv, at=status.timestamp)
            count_status(status.status)  # recorded; a redelivery (after a 503) counts again
