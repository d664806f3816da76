"""The send store: idempotent submissions, claims under a lease, recovery after a crash."""
import datetime as dt

import pytest

from connector.outreach.store import (
    DUE_KEY, LEASES_KEY, SCHEDULED, SENDING, UNKNOWN, IdempotencyConflict, SendStore, new_id,
)

LEASE = dt.timedelta(seconds=60)


def send(due_ms, **fields):
    return {"id": new_id(), "to": "521", "contact": "521", "template": "t", "state": SCHEDULED,
            "due": due_ms, "params": "[]", "body": "{}", **fields}


@pytest.fixture
def store(redis_client, clock):
    return SendStore(redis_client, clock)


def test_the_same_key_and_request_gives_the_same_ids_and_another_request_a_conflict(store):
    first = store.submit("shop", "k", "fp1", [send(store.now_ms())])
    again = store.submit("shop", "k", "fp1", [send(store.now_ms())])
    assert (again.ids, again.batch, again.existing) == (first.ids, first.batch, True)
    assert store.redis.zcard(DUE_KEY) == 1  # nothing stored the second time
    with pytest.raises(IdempotencyConflict, match="different request"):
        store.submit("shop", "k", "fp2", [send(store.now_ms())])
    # Keys are per client: another client's "k" is its own.
    assert not store.submit("other", "k", "fp2", [send(store.now_ms())]).existing


def test_only_due_sends_are_claimed_and_a_claim_is_exclusive(store, clock):
    now = store.now_ms()
    store.submit("shop", "a", "fp", [send(now), send(now + 3_600_000)])
    mine = store.claim("w1", 10, LEASE)
    assert len(mine) == 1 and store.claim("w2", 10, LEASE) == []
    clock.advance(hours=1)
    assert len(store.claim("w2", 10, LEASE)) == 1


def test_an_expired_lease_puts_an_unstarted_send_back_and_a_started_one_becomes_unknown(store, clock):
    now = store.now_ms()
    ids = store.submit("shop", "a", "fp", [send(now), send(now)]).ids
    claimed = store.claim("dead-worker", 10, LEASE)
    assert sorted(claimed) == sorted(ids)
    assert store.start(ids[0], "dead-worker")           # its POST may have gone out
    assert not store.start(ids[0], "another-worker")    # only the owner starts a send

    assert store.recover() == []                        # leases still valid: nothing taken
    clock.advance(seconds=61)
    assert store.recover() == [ids[0]]
    lost, waiting = store.many(ids)
    assert (lost.state, waiting.state) == (UNKNOWN, SCHEDULED)
    assert "not sent again" in lost.reason
    assert store.redis.zrange(DUE_KEY, 0, -1) == [ids[1]] and store.redis.zcard(LEASES_KEY) == 0
    assert store.finish(ids[0], "dead-worker", state="sent") is False  # a late finish changes nothing
    assert store.get(ids[0]).state == UNKNOWN


def test_renewing_keeps_a_slow_send_from_being_recovered(store, clock):
    (send_id,) = store.submit("shop", "a", "fp", [send(store.now_ms())]).ids
    store.claim("w1", 1, LEASE)
    assert store.start(send_id, "w1")
    clock.advance(seconds=50)
    store.renew("w1", [send_id], LEASE)
    clock.advance(seconds=50)
    assert store.recover() == [] and store.get(send_id).state == SENDING
