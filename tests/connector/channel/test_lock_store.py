"""Rasa's lock store hands out tickets non-atomically (rasa #9213); ours does not. Two clients
are interleaved exactly where Rasa's store reads a lock and then writes it back."""
from __future__ import annotations

from pathlib import Path

import pytest
import redis
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from connector.channel.lock_store import AtomicRedisLockStore
from core.redis_conn import RedisAddress

ROOT = Path(__file__).resolve().parents[3]
CONV = "5215500000001"


class Interleaved(redis.Redis):
    """A client that lets another client run `between()` right after its own first command:
    the moment a read-modify-write has read and not yet written."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.between = None

    def execute_command(self, *args, **options):
        try:
            return super().execute_command(*args, **options)
        finally:
            between, self.between = self.between, None
            if between is not None:
                between()


def _settings(redis_url: str) -> dict:
    address = RedisAddress.parse(redis_url)
    return {"port": address.port, "db": address.db, "password": address.password, "key_prefix": "rasa"}


def rasa_store(redis_url: str, client: redis.Redis | None = None) -> RedisLockStore:
    store = RedisLockStore(host=RedisAddress.parse(redis_url).host, **_settings(redis_url))
    if client is not None:
        store.red = client
    return store


def our_store(redis_url: str, client: redis.Redis | None = None) -> AtomicRedisLockStore:
    store = AtomicRedisLockStore(EndpointConfig(url=RedisAddress.parse(redis_url).host, **_settings(redis_url)))
    if client is not None:  # the scripts are bound to the store's client: rebind them too
        store.red = client
        for name in ("_issue", "_read", "_finish", "_tidy"):
            setattr(store, name, client.register_script(getattr(store, name).script))
    return store


def interleaved(redis_url: str) -> Interleaved:
    address = RedisAddress.parse(redis_url)
    return Interleaved(host=address.host, port=address.port, db=address.db, password=address.password)


def issued_at_once(make_store, redis_url) -> tuple[list[int], AtomicRedisLockStore | RedisLockStore]:
    """Two clients issue a ticket for one conversation, the second in the middle of the first."""
    client = interleaved(redis_url)
    first, second = make_store(redis_url, client), make_store(redis_url)
    tickets = []
    client.between = lambda: tickets.append(second.issue_ticket(CONV))
    tickets.insert(0, first.issue_ticket(CONV))
    return tickets, first


def issued_during_cleanup(make_store, redis_url) -> tuple[list[int], AtomicRedisLockStore | RedisLockStore]:
    """The holder cleans up; a second client is issued a ticket in the middle of it."""
    client = interleaved(redis_url)
    first, second = make_store(redis_url, client), make_store(redis_url)
    held = first.issue_ticket(CONV)
    waiting = []
    client.between = lambda: waiting.append(second.issue_ticket(CONV))
    first.cleanup(CONV, held)
    return waiting, second


def test_rasas_store_issues_the_same_ticket_to_two_clients_that_ask_at_once(redis_client, redis_url):
    """The defect: both clients get ticket 0, so both hold the lock and run side by side."""
    tickets, store = issued_at_once(rasa_store, redis_url)
    assert tickets == [0, 0]
    assert [t.number for t in store.get_lock(CONV).tickets] == [0]  # one of the two is lost


def test_our_store_issues_distinct_tickets_to_two_clients_that_ask_at_once(redis_client, redis_url):
    tickets, store = issued_at_once(our_store, redis_url)
    assert sorted(tickets) == [0, 1]
    lock = store.get_lock(CONV)
    assert [t.number for t in lock.tickets] == [0, 1]
    assert lock.is_locked(1) and not lock.is_locked(0)  # one holder, the other waits its turn


def test_rasas_cleanup_drops_a_ticket_issued_while_it_runs(redis_client, redis_url):
    """The defect: the holder's cleanup writes back (or deletes) the lock it read, without the
    ticket the second client was issued meanwhile; the waiter then never gets the lock."""
    waiting, store = issued_during_cleanup(rasa_store, redis_url)
    assert waiting == [1]
    assert store.get_lock(CONV) is None  # ticket 1 is gone with the lock


def test_our_cleanup_keeps_a_ticket_issued_while_it_runs(redis_client, redis_url):
    waiting, store = issued_during_cleanup(our_store, redis_url)
    # Atomic: the waiter's ticket was issued before the cleanup (1) or after it (0, the lock
    # having gone with the holder's ticket); either way it is the one left, and served next.
    assert len(waiting) == 1
    lock = store.get_lock(CONV)
    assert [t.number for t in lock.tickets] == waiting
    assert not lock.is_locked(waiting[0])
    store.cleanup(CONV, waiting[0])
    assert not redis_client.exists(store.key(CONV))  # the last ticket takes the lock with it


async def test_rasas_lock_context_serves_two_holders_in_turn_with_our_store(redis_client, redis_url):
    """Rasa's own lock() (what its tracker routes and our turns use) on our store."""
    import asyncio

    store = our_store(redis_url)
    inside, order = 0, []

    async def hold(name: str) -> None:
        nonlocal inside
        async with store.lock(CONV, wait_time_in_seconds=0.02):
            inside += 1
            assert inside == 1, "two holders at once"
            order.append(name)
            await asyncio.sleep(0.05)
            inside -= 1

    await asyncio.gather(hold("a"), hold("b"), hold("c"))
    assert sorted(order) == ["a", "b", "c"]
    assert not redis_client.exists(store.key(CONV))


def test_an_expired_ticket_gives_way_and_its_key_expires_with_it(redis_client, redis_url):
    store = our_store(redis_url)
    store.issue_ticket(CONV, lock_lifetime=0.05)  # its holder died without cleaning up
    assert 0 < redis_client.pttl(store.key(CONV)) <= 50
    later = store.issue_ticket(CONV, lock_lifetime=30)
    lock = store.get_lock(CONV)
    assert lock is not None and lock.is_locked(later)  # ticket 0 still live at first…
    import time

    deadline = time.monotonic() + 5
    while store.get_lock(CONV).is_locked(later):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert [t.number for t in store.get_lock(CONV).tickets] == [later]  # …then gone


def test_a_lock_whose_only_ticket_expired_is_not_acquired(redis_client, redis_url):
    """Rasa's _acquire_lock raises when the lock vanished: our get_lock says None, not an empty
    lock whose now_serving (0) would match ticket 0."""
    import asyncio

    store = our_store(redis_url)
    ticket = store.issue_ticket(CONV, lock_lifetime=0.01)
    import time

    time.sleep(0.05)
    with pytest.raises(LockError):
        asyncio.run(store._acquire_lock(CONV, ticket, 0.01))


def test_endpoints_yml_configures_our_lock_store(redis_url, monkeypatch):
    address = RedisAddress.parse(redis_url)
    for name, value in (("REDIS_HOST", address.host), ("REDIS_PORT", str(address.port)),
                        ("REDIS_DB", str(address.db)), ("REDIS_PASSWORD", address.password or ""),
                        ("ACTION_ENDPOINT_URL", "http://127.0.0.1:1/webhook"), ("ACTION_SERVER_TOKEN", "t"),
                        ("EVENTS_DB_URL", "sqlite://")):
        monkeypatch.setenv(name, value)
    store = LockStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store"))
    assert isinstance(store, AtomicRedisLockStore)
    assert store.key(CONV) == "rasa:lock:{" + CONV + "}"
    ticket = store.issue_ticket(CONV)
    store.cleanup(CONV, ticket)


def test_redis_unreachable_is_a_transient_error_not_a_lock_error():
    """Our turns retry a Redis outage (connector/inbox/pool.py TRANSIENT) without counting it;
    any other error from Rasa's turn gets the customer an apology. Rasa's store wraps the
    outage in LockError, so a Redis restart under load turned answers into apologies."""
    from connector.inbox.pool import TRANSIENT
    from core.redis_conn import free_port

    down = EndpointConfig(url="127.0.0.1", port=free_port(), db=0, key_prefix="rasa", socket_timeout=1)
    with pytest.raises(LockError):
        RedisLockStore(host=down.url, **down.kwargs).issue_ticket(CONV)
    with pytest.raises(TRANSIENT):
        AtomicRedisLockStore(down).issue_ticket(CONV)
