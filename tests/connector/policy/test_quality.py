"""Quality and account updates: recorded with history; a drop pauses marketing until a lead resumes."""
import datetime as dt

import pytest

from connector.policy.quality import QualityRegister
from connector.policy.tier import MessagingTier
from core.clock import FixedClock
from tests.connector.fake_graph import NOON

MIN = dt.timedelta(minutes=1)


@pytest.fixture
def clock():
    return FixedClock(NOON)


@pytest.fixture
def register(redis_client, clock):
    return QualityRegister(redis_client, clock)


def test_nothing_received_means_no_pause_and_no_state(register):
    state = register.current()
    assert (state.quality, state.account, state.pause) == (None, None, None)
    assert register.marketing_pause() is None and not register.resume_marketing("lead")


def test_flagged_pauses_marketing_until_a_lead_resumes_even_when_quality_recovers(register, clock):
    assert register.record_quality("FLAGGED", at=NOON - 10 * MIN, current_limit="TIER_2K")
    pause = register.marketing_pause()
    assert (pause.reason, pause.since) == ("quality FLAGGED", NOON - 10 * MIN)
    register.record_quality("UNFLAGGED", at=NOON - 5 * MIN, current_limit="TIER_2K")
    assert register.current().quality.event == "UNFLAGGED"
    assert register.marketing_pause() is not None  # recovery alone does not resume offers
    assert register.resume_marketing("ana")
    assert register.marketing_pause() is None
    state = register.current()
    assert (state.resumed_at, state.resumed_by) == (NOON, "ana")
    assert [(r.kind, r.event) for r in register.history()][:1] == [("resume", "MARKETING_RESUMED")]
    clock.advance(hours=1)
    register.record_quality("FLAGGED", at=clock.now())  # a later drop pauses again
    assert register.marketing_pause().since == NOON + dt.timedelta(hours=1)


def test_a_late_or_redelivered_drop_does_not_pause_again_after_a_resume(register, clock):
    register.record_quality("FLAGGED", at=NOON - 10 * MIN)
    register.resume_marketing("ana")
    assert not register.record_quality("FLAGGED", at=NOON - 10 * MIN)  # Meta's retry: seen before
    register.record_quality("FLAGGED", at=NOON - 20 * MIN)  # an older one arriving late
    assert register.marketing_pause() is None
    assert len([r for r in register.history() if r.kind == "quality"]) == 2


def test_out_of_order_updates_keep_the_newest_state_and_the_earliest_drop(register):
    register.record_quality("UNFLAGGED", at=NOON - MIN)
    assert not register.record_quality("FLAGGED", at=NOON - 30 * MIN)  # older: history only
    state = register.current()
    assert state.quality.event == "UNFLAGGED"
    # The drop still happened after the last resume (none), so marketing pauses from its time.
    assert state.pause.since == NOON - 30 * MIN
    assert [(r.event, r.applied) for r in register.history()] == [("FLAGGED", False), ("UNFLAGGED", True)]


def test_a_red_rating_pauses_and_other_events_do_not(register):
    register.record_quality("UPGRADE", at=NOON - 3 * MIN, current_limit="TIER_10K")
    register.record_quality("THROUGHPUT_UPGRADE", at=NOON - 2 * MIN)
    assert register.marketing_pause() is None
    register.record_quality("DOWNGRADE", at=NOON - MIN, rating="red")
    assert register.marketing_pause().reason == "quality rating RED"


def test_the_current_limit_sets_the_tier_newest_first(register, redis_client, clock):
    tier = MessagingTier(redis_client, clock, env={})
    register.record_quality("UPGRADE", at=NOON - MIN, current_limit="TIER_10K")
    assert (tier.usage().tier, tier.usage().source) == ("TIER_10K", "webhook")
    register.record_quality("DOWNGRADE", at=NOON - 9 * MIN, current_limit="TIER_2K")  # late
    assert tier.usage().tier == "TIER_10K"
    register.record_quality("ONBOARDING", at=NOON, current_limit="TIER_NOT_SET")  # not a tier
    assert tier.usage().tier == "TIER_10K"


def test_account_updates_are_recorded_with_history_and_redeliveries_once(register):
    ban = {"ban_info": {"waba_ban_state": "DISABLE", "waba_ban_date": "2026-01-05"}}
    restriction = {"restriction_info": [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                                         "expiration": "2026-01-12T12:00:00+0000"}]}
    assert register.record_account("ACCOUNT_RESTRICTION", at=NOON - MIN, details=restriction)
    assert not register.record_account("DISABLED_UPDATE", at=NOON - 5 * MIN, details=ban)  # older
    assert not register.record_account("ACCOUNT_RESTRICTION", at=NOON - MIN, details=restriction)  # again
    current = register.current().account
    assert (current.event, current.details) == ("ACCOUNT_RESTRICTION", restriction)
    assert [(a.event, a.applied) for a in register.account_history()] == [
        ("DISABLED_UPDATE", False), ("ACCOUNT_RESTRICTION", True)]
    assert register.marketing_pause() is None  # account updates are shown, they do not pause
