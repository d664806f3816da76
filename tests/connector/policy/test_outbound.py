"""The business-initiated gate: register, consent, quality and tier, in that order, for every send."""
import datetime as dt

import pytest

from core.clock import FixedClock
from connector.policy import outbound
from connector.policy.consent import MARKETING, OPTED_IN, OPTED_OUT, TRANSACTIONAL, ConsentRegister
from connector.policy.outbound import BusinessInitiated
from connector.policy.quality import QualityRegister
from connector.policy.templates import TemplateRegister
from connector.policy.tier import MessagingTier
from connector.policy.window import ServiceWindow

NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
CONTACT = "5215512345678"


@pytest.fixture
def clock():
    return FixedClock(NOON)


@pytest.fixture
def gate(redis_client, clock):
    TemplateRegister(redis_client, clock).load_file()
    MessagingTier(redis_client, clock).set_tier("TIER_250", source="test")
    return BusinessInitiated.on(redis_client, clock)


@pytest.fixture
def consent(redis_client, clock):
    return ConsentRegister(redis_client, clock)


def order(language="es_MX"):
    return {"name": "order_confirmation", "language": {"code": language}}


def promo():
    return {"name": "reengage_es", "language": {"code": "es_MX"}}


def test_a_utility_template_to_a_contact_who_never_opted_in_is_refused_with_the_reason(gate):
    verdict = gate.check(CONTACT, order())
    assert verdict.outcome == outbound.REFUSE and verdict.kind == outbound.NO_CONSENT
    assert "no opt-in" in verdict.reason


def test_an_opt_out_refuses_even_after_an_earlier_opt_in(gate, consent, clock):
    consent.record(CONTACT, TRANSACTIONAL, OPTED_IN, "web_form")
    assert gate.check(CONTACT, order()).outcome == outbound.SEND
    clock.advance(minutes=1)
    consent.record(CONTACT, TRANSACTIONAL, OPTED_OUT, "message")
    verdict = gate.check(CONTACT, order())
    assert verdict.outcome == outbound.REFUSE and "opted out" in verdict.reason


def test_transactional_consent_does_not_cover_marketing(gate, consent):
    consent.record(CONTACT, TRANSACTIONAL, OPTED_IN, "web_form")
    verdict = gate.check(CONTACT, promo())
    assert verdict.outcome == outbound.REFUSE and verdict.kind == outbound.NO_CONSENT
    consent.record(CONTACT, MARKETING, OPTED_IN, "web_form")
    assert gate.check(CONTACT, promo()).outcome == outbound.SEND


def test_inside_the_window_a_utility_template_is_a_reply_but_marketing_still_needs_its_opt_in(
        gate, redis_client, clock):
    ServiceWindow(redis_client, clock).record_inbound(CONTACT)
    assert gate.check(CONTACT, order()).outcome == outbound.SEND
    assert gate.check(CONTACT, promo()).kind == outbound.NO_CONSENT
    # ... and it does not count in the tier: the customer started this conversation.
    assert MessagingTier(redis_client, clock).usage().used == 0


def test_an_unknown_or_unapproved_template_is_refused_before_consent_is_asked(gate, redis_client, clock):
    verdict = gate.check(CONTACT, {"name": "made_up", "language": {"code": "es_MX"}})
    assert verdict.outcome == outbound.REFUSE and verdict.kind == outbound.TEMPLATE
    assert "made_up" in verdict.reason
    TemplateRegister(redis_client, clock).record_status("order_confirmation", "es_MX", "paused", reason="test")
    verdict = gate.check(CONTACT, order())
    assert verdict.kind == outbound.TEMPLATE and "paused" in verdict.reason


def test_the_tier_defers_the_251st_new_contact_until_a_slot_frees_and_refusals_use_no_slot(
        gate, consent, redis_client, clock):
    contacts = [f"52155000{n:05d}" for n in range(251)]
    for contact in contacts:
        consent.record(contact, TRANSACTIONAL, OPTED_IN, "import")
    assert gate.check("52199999999", order()).outcome == outbound.REFUSE  # no consent: no slot used
    for contact in contacts[:250]:
        assert gate.check(contact, order()).outcome == outbound.SEND
    assert gate.check(contacts[0], order()).outcome == outbound.SEND  # reached already: counts once
    verdict = gate.check(contacts[250], order())
    assert verdict.outcome == outbound.DEFER and verdict.kind == outbound.TIER
    assert verdict.retry_at == NOON + dt.timedelta(hours=24)
    clock.advance(hours=24, seconds=1)
    assert gate.check(contacts[250], order()).outcome == outbound.SEND


def test_a_quality_drop_defers_marketing_until_a_lead_resumes_it_but_utility_still_goes(
        gate, consent, redis_client, clock):
    consent.record(CONTACT, MARKETING, OPTED_IN, "web_form")
    consent.record(CONTACT, TRANSACTIONAL, OPTED_IN, "web_form")
    quality = QualityRegister(redis_client, clock)
    quality.record_quality("FLAGGED")
    verdict = gate.check(CONTACT, promo())
    assert verdict.outcome == outbound.DEFER and verdict.kind == outbound.MARKETING_PAUSED
    assert verdict.retry_at is None and "until a lead resumes it" in verdict.reason
    assert gate.check(CONTACT, order()).outcome == outbound.SEND
    clock.advance(minutes=5)
    quality.resume_marketing("lucia")
    assert gate.check(CONTACT, promo()).outcome == outbound.SEND
