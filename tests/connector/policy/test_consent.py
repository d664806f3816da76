"""The consent register: per contact and purpose, the newest change wins; the history keeps all."""
import datetime as dt

import pytest

from connector.policy.consent import (
    HISTORY_MAX, MARKETING, OPTED_IN, OPTED_OUT, TRANSACTIONAL, UNKNOWN, ConsentRegister,
)
from core.clock import FixedClock
from tests.connector.fake_graph import NOON

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def register(redis_client):
    return ConsentRegister(redis_client, FixedClock(NOON))


def test_nothing_recorded_is_unknown_and_no_purpose_is_allowed(register):
    assert {p: c.state for p, c in register.status("5215500000001").items()} == {
        TRANSACTIONAL: UNKNOWN, MARKETING: UNKNOWN}
    for purpose in (TRANSACTIONAL, MARKETING):
        decision = register.allows("5215500000001", purpose)
        assert not decision.allowed and "no opt-in recorded" in decision.reason


def test_allows_only_the_purpose_opted_in_for(register):
    register.record("c1", TRANSACTIONAL, OPTED_IN, "web_form", by="checkout")
    assert register.allows("c1", TRANSACTIONAL).allowed
    assert not register.allows("c1", MARKETING).allowed  # transactional consent is not marketing
    register.record("c1", MARKETING, OPTED_IN, "qr")
    register.record("c1", MARKETING, OPTED_OUT, "message", by="customer", at=NOON + HOUR)
    decision = register.allows("c1", MARKETING)
    assert not decision.allowed and decision.reason == "marketing: the contact opted out (message)"
    assert register.allows("c1", TRANSACTIONAL).allowed  # an opt-out of offers keeps order updates
    with pytest.raises(ValueError):
        register.allows("c1", "newsletter")


def test_state_says_when_how_and_who(register):
    register.record("c1", MARKETING, OPTED_OUT, "message", by="customer", ref="wamid.1")
    state = register.status("c1")[MARKETING]
    assert (state.state, state.at, state.source, state.by, state.ref) == (
        OPTED_OUT, NOON, "message", "customer", "wamid.1")


def test_an_older_change_goes_to_the_history_without_overriding_a_newer_one(register):
    register.record("c1", MARKETING, OPTED_OUT, "whatsapp_settings", at=NOON)
    assert not register.record("c1", MARKETING, OPTED_IN, "import", at=NOON - 24 * HOUR)
    assert register.status("c1")[MARKETING].state == OPTED_OUT
    newest, older = register.history("c1")
    assert (newest.state, newest.applied) == (OPTED_IN, False)
    assert (older.state, older.applied) == (OPTED_OUT, True)


def test_a_redelivered_change_is_not_recorded_twice(register):
    assert register.record("c1", MARKETING, OPTED_OUT, "message", ref="wamid.1")
    assert not register.record("c1", MARKETING, OPTED_OUT, "message", ref="wamid.1")
    assert len(register.history("c1")) == 1


def test_a_time_far_ahead_of_our_clock_is_recorded_as_now(register):
    register.record("c1", MARKETING, OPTED_IN, "import", at=NOON + 1000 * HOUR)
    assert register.status("c1")[MARKETING].at == NOON
    with pytest.raises(ValueError):
        register.record("c1", MARKETING, OPTED_IN, "import", at=dt.datetime(2026, 1, 1))  # naive


def test_unknown_names_are_refused(register):
    for purpose, state, source in [("promo", OPTED_IN, "qr"), (MARKETING, "maybe", "qr"),
                                   (MARKETING, OPTED_IN, "fax")]:
        with pytest.raises(ValueError):
            register.record("c1", purpose, state, source)
    assert register.history("c1") == []


def test_the_history_is_bounded(register, monkeypatch):
    monkeypatch.setattr("connector.policy.consent.HISTORY_MAX", 3)
    for i in range(5):
        register.record("c1", MARKETING, (OPTED_IN, OPTED_OUT)[i % 2], "message", at=NOON - (9 - i) * HOUR)
    assert [c.at for c in register.history("c1")] == [NOON - (9 - i) * HOUR for i in (4, 3, 2)]
    assert HISTORY_MAX >= 1000


def test_contacts_lists_everyone_with_a_change(register):
    for n in range(3):
        register.record(f"c{n}", MARKETING, OPTED_IN, "import", at=NOON - n * HOUR)
    assert sorted(register.contacts(batch=2)) == ["c0", "c1", "c2"]


def test_recent_pages_contacts_newest_change_first(register):
    register.record("c1", MARKETING, OPTED_IN, "qr", at=NOON - 3 * HOUR)
    register.record("c2", MARKETING, OPTED_IN, "qr", at=NOON - 2 * HOUR)
    register.record("c3", MARKETING, OPTED_IN, "qr", at=NOON - HOUR)
    register.record("c1", TRANSACTIONAL, OPTED_IN, "qr", at=NOON)  # c1's newest change is now
    assert register.recent(0, 2) == (3, [("c1", NOON), ("c3", NOON - HOUR)])
    assert register.recent(2, 2) == (3, [("c2", NOON - 2 * HOUR)])
