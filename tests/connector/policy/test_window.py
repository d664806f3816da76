import datetime as dt

from core.clock import FixedClock
from connector.policy.window import WINDOW_CLOSED_CODE, ServiceWindow, closes_window
from tests.connector.fake_graph import NOON


def test_no_inbound_means_closed(redis_client):
    status = ServiceWindow(redis_client, FixedClock(NOON)).status("34600000001")
    assert not status.open and status.reason == "no_inbound" and status.closes_at is None


def test_open_for_24_hours_after_the_last_inbound(redis_client):
    clock = FixedClock(NOON)
    window = ServiceWindow(redis_client, clock)
    window.record_inbound("c1")
    status = window.status("c1")
    assert status.open and status.reason == "open"
    assert status.last_inbound_at == NOON
    assert status.closes_at == NOON + dt.timedelta(hours=24)
    clock.advance(hours=23, minutes=58)
    assert window.status("c1").open
    clock.advance(minutes=1, seconds=30)  # inside the safety margin before the deadline
    assert not window.status("c1").open
    clock.advance(hours=1)
    assert window.status("c1").reason == "expired"


def test_a_new_inbound_extends_and_an_older_one_does_not_shorten(redis_client):
    clock = FixedClock(NOON)
    window = ServiceWindow(redis_client, clock)
    clock.advance(hours=5)
    window.record_inbound("c1", at=NOON + dt.timedelta(hours=5))
    window.record_inbound("c1", at=NOON)  # processed late, sent earlier
    assert window.status("c1").last_inbound_at == NOON + dt.timedelta(hours=5)
    clock.advance(hours=23)
    assert window.status("c1").open


def test_close_holds_until_the_next_inbound(redis_client):
    clock = FixedClock(NOON)
    window = ServiceWindow(redis_client, clock)
    window.record_inbound("c1")
    clock.advance(hours=1)
    window.close("c1", "131047")
    status = window.status("c1")
    assert not status.open and status.reason == "131047"
    window.record_inbound("c1", at=NOON + dt.timedelta(minutes=30))  # older than the close
    assert not window.status("c1").open
    clock.advance(minutes=5)
    window.record_inbound("c1")
    assert window.status("c1").open


def test_conversations_are_independent_and_keyed_as_designed(redis_client):
    window = ServiceWindow(redis_client, FixedClock(NOON))
    window.record_inbound("c1")
    assert not window.status("c2").open
    assert redis_client.exists("wa:window:c1") and redis_client.ttl("wa:window:c1") > 0


def test_a_close_dated_before_the_latest_inbound_does_not_close(redis_client):
    # Meta's failed status (131047) for a message it refused before the customer wrote again
    # can reach us after that message (late or redelivered webhook): the window is open.
    clock = FixedClock(NOON + dt.timedelta(hours=30))
    window = ServiceWindow(redis_client, clock)
    window.record_inbound("c1", at=NOON + dt.timedelta(hours=29))
    window.close("c1", "131047", at=NOON + dt.timedelta(hours=28))
    assert window.status("c1").open
    window.close("c1", "131047", at=NOON + dt.timedelta(hours=29, minutes=1))
    assert window.status("c1").reason == "131047"


def test_an_older_close_does_not_undo_a_newer_one(redis_client):
    clock = FixedClock(NOON + dt.timedelta(hours=30))
    window = ServiceWindow(redis_client, clock)
    window.record_inbound("c1", at=NOON + dt.timedelta(hours=29))
    window.close("c1", "131047")  # Meta refused a send just now
    window.close("c1", "131047", at=NOON + dt.timedelta(hours=28))  # a stale status arrives after
    assert window.status("c1").reason == "131047"


def test_only_the_window_closed_code_closes_the_window(redis_client):
    # The one rule "Meta said 131047, so the window is closed", used by the sender (a refused
    # send) and the webhook intake (a failed status).
    assert closes_window([131047]) and closes_window((131026, 131047)) and closes_window(["131047"])
    assert not closes_window([131026]) and not closes_window([]) and not closes_window([None, "network"])
    clock = FixedClock(NOON)
    window = ServiceWindow(redis_client, clock)
    window.record_inbound("c1")
    clock.advance(minutes=1)
    assert window.note_error("c1", [131026]) is False
    assert window.status("c1").open
    assert window.note_error("c1", [WINDOW_CLOSED_CODE], at=clock.now()) is True
    assert window.status("c1").reason == str(WINDOW_CLOSED_CODE) == "131047"


def test_a_timestamp_from_the_future_does_not_hold_the_window_open(redis_client):
    # Meta's timestamp is the customer's claim of when they wrote; a year-2999 one (a bad clock,
    # a forged-but-signed body) must not let free-form messages out for centuries.
    clock = FixedClock(NOON)
    window = ServiceWindow(redis_client, clock)
    window.record_inbound("c1", at=dt.datetime(2999, 1, 1, tzinfo=dt.timezone.utc))
    assert window.status("c1").closes_at == NOON + dt.timedelta(hours=24)
    window.record_inbound("c2", at=NOON + dt.timedelta(minutes=2))  # a little clock skew is kept
    assert window.status("c2").last_inbound_at == NOON + dt.timedelta(minutes=2)
