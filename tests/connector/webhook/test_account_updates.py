"""Meta's phone_number_quality_update and account_update webhooks: parsed into frozen events,
answered 200, recorded (quality, tier, account) once, in their true order."""
import dataclasses
import datetime as dt

import pytest

from connector.inbox.queue import Ingest
from connector.policy.quality import QualityRegister
from connector.policy.tier import MessagingTier
from connector.webhook.account import AccountUpdate, QualityUpdate
from connector.webhook.identity import Identity
from connector.webhook.inbound import parse_webhook
from connector.webhook.intake import Intake
from tests.connector.conftest import signed

WABA = "102290129340398"
AT = 1767614400  # 2026-01-05 12:00 UTC


def webhook(field: str, value: dict, at: int = AT) -> dict:
    """Meta's shape (developers.facebook.com … webhooks/reference/<field>): no metadata, the
    entry's time is the only date."""
    return {"object": "whatsapp_business_account",
            "entry": [{"id": WABA, "time": at, "changes": [{"value": value, "field": field}]}]}


def quality(event: str, limit: str = "TIER_2K", at: int = AT) -> dict:
    return webhook("phone_number_quality_update", {
        "display_phone_number": "15550783881", "event": event, "old_limit": "TIER_250",
        "current_limit": "TIER_1K", "max_daily_conversations_per_business": limit}, at)


RESTRICTION = {"event": "ACCOUNT_RESTRICTION", "restriction_info": [
    {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": "2026-01-12T12:00:00+0000"}]}


def test_parsed_into_frozen_events_dated_by_the_entry():
    batch = parse_webhook(quality("FLAGGED"))
    assert batch.account == (QualityUpdate(
        event="FLAGGED", timestamp=dt.datetime.fromtimestamp(AT, dt.timezone.utc), current_limit="TIER_2K",
        old_limit="TIER_250", display_phone_number="15550783881", waba_id=WABA),)
    assert not batch.ignored
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.account[0].event = "UNFLAGGED"
    (update,) = parse_webhook(webhook("account_update", {**RESTRICTION, "noise": 1})).account
    assert isinstance(update, AccountUpdate) and update.details == {"restriction_info": RESTRICTION["restriction_info"]}


def test_the_deprecated_current_limit_is_read_when_alone_and_not_set_is_no_tier():
    only_current = webhook("phone_number_quality_update", {"event": "UPGRADE", "current_limit": "TIER_10K"})
    assert parse_webhook(only_current).account[0].current_limit == "TIER_10K"
    onboarding = webhook("phone_number_quality_update", {"event": "ONBOARDING", "current_limit": "TIER_NOT_SET"})
    assert parse_webhook(onboarding).account[0].current_limit is None


def test_an_update_without_an_event_is_rejected_alone():
    batch = parse_webhook(webhook("account_update", {"ban_info": {}}))
    assert not batch.account and len(batch.rejected) == 1


def test_recorded_once_in_their_true_order(redis_client):
    register = QualityRegister(redis_client)
    intake = Intake(Ingest(redis_client), Identity(redis_client), quality=register)
    intake.accept(parse_webhook(quality("UNFLAGGED", "TIER_10K", AT + 60)))
    intake.accept(parse_webhook(quality("FLAGGED", "TIER_2K", AT)))  # older, arrived late
    intake.accept(parse_webhook(quality("FLAGGED", "TIER_2K", AT)))  # Meta's retry
    state = register.current()
    assert state.quality.event == "UNFLAGGED" and MessagingTier(redis_client).usage().tier == "TIER_10K"
    assert state.pause.reason == "quality FLAGGED"
    assert [(r.event, r.applied) for r in register.history()] == [("FLAGGED", False), ("UNFLAGGED", True)]


def test_the_webhook_is_answered_200_and_recorded(channel, redis_client):
    for payload in (quality("FLAGGED"), webhook("account_update", RESTRICTION)):
        body, headers = signed(payload)
        assert channel.endpoint.handle(body, headers["X-Hub-Signature-256"]).status == 200
    state = QualityRegister(redis_client).current()
    assert state.pause is not None and state.account.event == "ACCOUNT_RESTRICTION"


def test_the_emulators_webhooks_parse_as_metas():
    from emulator.payloads import account_payload
    from emulator.settings import Settings

    quality = account_payload(Settings(), "phone_number_quality_update", {"event": "DOWNGRADE", "limit": "TIER_250"}, AT)
    (update,) = parse_webhook(quality).account
    assert (update.event, update.current_limit, update.timestamp) == (
        "DOWNGRADE", "TIER_250", dt.datetime.fromtimestamp(AT, dt.timezone.utc))
    (update,) = parse_webhook(account_payload(Settings(), "account_update", RESTRICTION, AT)).account
    assert update.details == {"restriction_info": RESTRICTION["restriction_info"]}
