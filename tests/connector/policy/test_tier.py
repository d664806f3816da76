"""The messaging tier: unique contacts in a moving 24 h, counted exactly on a clock we control."""
import datetime as dt
import threading

import pytest

from connector.policy.tier import CONTACTS_KEY, DEFAULT_TIER, TIER_LIMITS, WINDOW, MessagingTier
from core.clock import FixedClock
from tests.connector.fake_graph import NOON

MS = dt.timedelta(milliseconds=1)


@pytest.fixture
def clock():
    return FixedClock(NOON)


@pytest.fixture
def tier(redis_client, clock):
    tier = MessagingTier(redis_client, clock, env={})
    tier.set_tier("TIER_250", source="cli")
    return tier


def test_the_tier_names_are_metas_ladder():
    assert [TIER_LIMITS[n] for n in ("TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")] == [
        250, 2000, 10000, 100000, None]


def test_counts_exactly_up_to_the_limit_and_says_when_a_slot_frees(tier, clock):
    for n in range(250):
        decision = tier.reserve(f"c{n}")
        assert decision.allowed and decision.used == n + 1 and decision.limit == 250
        clock.advance(seconds=1)
    refused = tier.reserve("c250")
    assert not refused.allowed and refused.used == 250
    assert refused.retry_at == NOON + WINDOW  # c0 was reached at NOON
    usage = tier.usage()
    assert (usage.tier, usage.used, usage.limit, usage.next_free_at) == ("TIER_250", 250, 250, NOON + WINDOW)


def test_a_contact_leaves_the_window_exactly_24_hours_after_its_last_send(tier, clock):
    for n in range(250):
        tier.reserve(f"c{n}")
    clock.set(NOON + WINDOW - MS)
    assert not tier.reserve("new").allowed  # one millisecond early: every slot is still taken
    assert tier.usage().used == 250
    clock.set(NOON + WINDOW)
    assert tier.usage().used == 0  # all were reached at NOON: all left at once
    decision = tier.reserve("new")
    assert decision.allowed and decision.used == 1


def test_the_same_contact_twice_counts_once_and_refreshes_its_place(tier, clock):
    tier.set_tier("TIER_50", source="cli")
    first = tier.reserve("c1")
    clock.advance(hours=23)
    again = tier.reserve("c1")
    assert first.used == again.used == 1 and again.allowed
    for n in range(49):
        tier.reserve(f"other{n}")
    assert not tier.reserve("newcomer").allowed
    # At capacity, someone already reached still gets through (no new unique contact).
    assert tier.reserve("c1").allowed
    clock.set(NOON + WINDOW)  # c1's first send leaves the window, its later ones do not
    assert tier.usage().used == 50


def test_many_threads_reserving_never_exceed_the_limit(redis_url, redis_client, clock):
    from core.redis_conn import get_redis

    MessagingTier(redis_client, clock, env={}).set_tier("TIER_50", source="cli")
    allowed, lock = [], threading.Lock()

    def worker(k):
        client = get_redis(redis_url)
        tier = MessagingTier(client, clock, env={})
        for n in range(20):
            decision = tier.reserve(f"t{k}-{n}")
            with lock:
                allowed.append(decision.allowed)
        client.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 50 and len(allowed) == 160
    assert redis_client.zcard(CONTACTS_KEY) == 50


def test_unlimited_allows_everyone_and_still_counts(tier):
    tier.set_tier("TIER_UNLIMITED", source="cli")
    for n in range(300):
        assert tier.reserve(f"c{n}").allowed
    assert tier.usage().used == 300 and tier.usage().limit is None


def test_the_tier_comes_from_redis_else_the_environment_else_the_default(redis_client, clock):
    assert MessagingTier(redis_client, clock, env={}).usage().tier == DEFAULT_TIER == "TIER_250"
    from_env = MessagingTier(redis_client, clock, env={"WHATSAPP_MESSAGING_TIER": "tier_10k"})
    assert (from_env.usage().tier, from_env.usage().source) == ("TIER_10K", "env")
    with pytest.raises(ValueError):
        MessagingTier(redis_client, clock, env={"WHATSAPP_MESSAGING_TIER": "TIER_3"}).usage()
    from_env.set_tier("TIER_2K", source="webhook", at=NOON - dt.timedelta(hours=1))
    usage = from_env.usage()
    assert (usage.tier, usage.limit, usage.source, usage.since) == (
        "TIER_2K", 2000, "webhook", NOON - dt.timedelta(hours=1))


def test_a_late_tier_change_does_not_override_a_newer_one_and_repeats_log_once(tier, clock):
    assert tier.set_tier("TIER_10K", source="webhook", at=NOON + dt.timedelta(minutes=1))
    assert not tier.set_tier("TIER_2K", source="webhook", at=NOON - dt.timedelta(hours=2))
    assert tier.set_tier("TIER_10K", source="webhook", at=NOON + dt.timedelta(minutes=1))  # redelivery
    assert tier.usage().tier == "TIER_10K"
    assert [(c.name, c.applied) for c in tier.history()] == [
        ("TIER_2K", False), ("TIER_10K", True), ("TIER_250", True)]
    with pytest.raises(ValueError):
        tier.set_tier("TIER_5", source="cli")
