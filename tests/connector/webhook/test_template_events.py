"""Meta's template webhooks: parsed into frozen events and recorded in the register, dated by
Meta's time, so a late or redelivered one changes nothing."""
import dataclasses
import datetime as dt

import pytest

from connector.inbox.queue import Ingest
from connector.policy.templates import TemplateRegister
from connector.webhook.identity import Identity
from connector.webhook.inbound import parse_webhook
from connector.webhook.intake import Intake
from connector.webhook.types import TemplateQualityUpdate, TemplateStatusUpdate
from core.clock import FixedClock
from tests.connector.fake_graph import NOON

AT = 1767614400  # 2026-01-05 12:00 UTC, NOON


def waba(field: str, value: dict, at: int = AT) -> dict:
    """Meta's envelope for account-level changes: no phone-number metadata, the entry's time."""
    return {"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "time": at, "changes": [{"value": value, "field": field}]}]}


def status(event: str, at: int = AT, name: str = "promo_temporada", language: str = "es_MX", **extra) -> dict:
    # Meta's example shape (webhooks reference, message_template_status_update).
    return waba("message_template_status_update", {
        "event": event, "message_template_id": 594425479261596, "message_template_name": name,
        "message_template_language": language, "reason": extra.pop("reason", "NONE"), **extra}, at)


def quality(new: str, previous: str = "GREEN", at: int = AT, name: str = "promo_temporada") -> dict:
    return waba("message_template_quality_update", {
        "previous_quality_score": previous, "new_quality_score": new, "message_template_id": 594425479261596,
        "message_template_name": name, "message_template_language": "es_MX"}, at)


def test_status_update_parsed_into_a_frozen_event():
    batch = parse_webhook(status("PAUSED", other_info={
        "title": "FIRST_PAUSE", "description": "Your template has been paused for 3 hours"},
        message_template_category="MARKETING"))
    (update,) = batch.template_statuses
    assert update == TemplateStatusUpdate(
        template_id="594425479261596", name="promo_temporada", language="es_MX", event="PAUSED",
        timestamp=dt.datetime.fromtimestamp(AT, dt.timezone.utc), reason=None, category="MARKETING",
        detail="Your template has been paused for 3 hours")
    assert not batch.ignored and not batch.rejected and not batch.messages
    with pytest.raises(dataclasses.FrozenInstanceError):
        update.event = "APPROVED"
    rejected = parse_webhook(status("REJECTED", reason="INCORRECT_CATEGORY")).template_statuses[0]
    assert rejected.reason == "INCORRECT_CATEGORY"


def test_quality_update_parsed_into_a_frozen_event():
    (update,) = parse_webhook(quality("YELLOW")).template_qualities
    assert update == TemplateQualityUpdate(
        template_id="594425479261596", name="promo_temporada", language="es_MX", previous="GREEN",
        quality="YELLOW", timestamp=dt.datetime.fromtimestamp(AT, dt.timezone.utc))


def test_a_change_without_its_template_is_rejected_alone():
    payload = status("APPROVED")
    payload["entry"][0]["changes"].insert(0, {"field": "message_template_status_update",
                                              "value": {"event": "APPROVED"}})
    batch = parse_webhook(payload)
    assert len(batch.template_statuses) == 1 and len(batch.rejected) == 1


@pytest.fixture
def register(redis_client):
    register = TemplateRegister(redis_client, FixedClock(NOON))
    register.load_file()
    return register


@pytest.fixture
def intake(redis_client, register):
    return Intake(Ingest(redis_client), Identity(redis_client), templates=register)


def test_status_webhooks_recorded_out_of_order_and_redelivered(intake, register):
    intake.accept(parse_webhook(status("PAUSED", AT + 60, other_info={"title": "FIRST_PAUSE", "description": "low quality"})))
    intake.accept(parse_webhook(status("APPROVED", AT)))             # older, arrived late
    assert register.get("promo_temporada", "es_MX").status == "paused"
    assert register.get("promo_temporada", "es_MX").reason == "low quality"
    intake.accept(parse_webhook(status("REINSTATED", AT + 120)))
    intake.accept(parse_webhook(status("PAUSED", AT + 60)))          # Meta's retry of the first
    assert register.get("promo_temporada", "es_MX").approved
    intake.accept(parse_webhook(status("DISABLED", AT + 180)))
    assert register.get("promo_temporada", "es_MX").status == "disabled"
    intake.accept(parse_webhook(status("FLAGGED", AT + 240)))        # a warning, not a status
    assert register.get("promo_temporada", "es_MX").status == "disabled"


def test_quality_webhooks_recorded_out_of_order_and_redelivered(intake, register):
    intake.accept(parse_webhook(quality("RED", "YELLOW", AT + 60)))
    intake.accept(parse_webhook(quality("YELLOW", "GREEN", AT)))      # older, arrived late
    intake.accept(parse_webhook(quality("RED", "YELLOW", AT + 60)))   # redelivered
    assert register.get("promo_temporada", "es_MX").quality == "red"
    intake.accept(parse_webhook(quality("GREEN", "RED", AT + 120)))
    assert register.get("promo_temporada", "es_MX").quality == "green"
