import datetime as dt
import json
from types import SimpleNamespace

import pytest

from core.clock import FixedClock
from connector.cloudapi.delivery import DeliveryLog
from tests.connector.fake_graph import NOON

BODY = {"messaging_product": "whatsapp", "to": "346", "type": "text", "text": {"body": "Hola"}}


def status(wamid, name, ts=1_767_614_400, errors=()):
    return {"id": wamid, "status": name, "timestamp": str(ts), "recipient_id": "346", "errors": list(errors)}


def test_latest_status_never_goes_back(redis_client):
    log = DeliveryLog(redis_client, FixedClock(NOON))
    log.record_sent("wamid.1", "c1", BODY, agent="ana")
    for name in ("delivered", "read", "sent", "delivered"):  # out of order and repeated
        log.record_status(status("wamid.1", name))
    record = log.get("wamid.1")
    assert record["status"] == "read"
    assert record["sent_at"] and record["delivered_at"] and record["read_at"]
    assert record["agent"] == "ana" and record["conv"] == "c1" and record["body"] == BODY
    assert redis_client.ttl("wa:out:wamid.1") > 0


def test_a_status_before_our_own_record_is_kept(redis_client):
    log = DeliveryLog(redis_client, FixedClock(NOON))
    log.record_status(status("wamid.2", "delivered"))
    log.record_sent("wamid.2", "c1", BODY)
    assert log.get("wamid.2")["status"] == "delivered"


def test_unknown_status_is_timestamped_but_does_not_replace(redis_client):
    log = DeliveryLog(redis_client, FixedClock(NOON))
    log.record_sent("wamid.3", "c1", BODY)
    log.record_status(status("wamid.3", "sent"))
    log.record_status(status("wamid.3", "warning"))
    record = log.get("wamid.3")
    assert record["status"] == "sent" and "warning_at" in record


def test_failed_status_goes_to_failures_once(redis_client):
    log = DeliveryLog(redis_client, FixedClock(NOON))
    log.record_sent("wamid.4", "c1", BODY, agent="ana")
    error = {"code": 131047, "title": "Re-engagement message",
             "error_data": {"details": "More than 24 hours have passed"}}
    for _ in range(2):  # Meta redelivers webhooks
        log.record_status(status("wamid.4", "failed", errors=[error]))
    (failure,) = log.failures("c1")
    assert failure["code"] == "131047" and failure["kind"] == "failed_status"
    assert failure["detail"] == "More than 24 hours have passed"
    assert failure["body"] == BODY and failure["agent"] == "ana" and failure["wamid"] == "wamid.4"
    assert log.get("wamid.4")["status"] == "failed"


def test_status_objects_like_the_inbound_parser_makes(redis_client):
    log = DeliveryLog(redis_client, FixedClock(NOON))
    log.record_sent("wamid.5", "c1", BODY)
    update = SimpleNamespace(
        wamid="wamid.5", status="failed", recipient_id="346",
        timestamp=dt.datetime(2026, 1, 5, 12, 1, tzinfo=dt.timezone.utc),
        errors=(SimpleNamespace(code=131026, title="Message undeliverable", message=None, details="not on WhatsApp"),),
    )
    assert log.record_status(update) is True
    record = log.get("wamid.5")
    assert record["status"] == "failed" and record["error"]["code"] == 131026
    assert log.failures("c1")[0]["detail"] == "not on WhatsApp"


def test_inbound_status_update_class_is_accepted(redis_client):
    inbound = pytest.importorskip("connector.webhook.inbound")
    log = DeliveryLog(redis_client, FixedClock(NOON))
    update = inbound.StatusUpdate(wamid="wamid.6", status="read",
                                  timestamp=dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc), recipient_id="346")
    assert log.record_status(update) is True
    assert log.get("wamid.6")["status"] == "read"


def test_failures_newest_first_filtered_and_counted(redis_client):
    log = DeliveryLog(redis_client, FixedClock(NOON))
    for i in range(5):
        log.record_failure("c1", {"n": i}, 131026, "Undeliverable")
        log.record_failure("c2", {"n": i}, 100, "Invalid parameter", "bad")
    assert [f["body"]["n"] for f in log.failures("c1", count=3)] == [4, 3, 2]
    assert {f["conv"] for f in log.failures(count=10)} == {"c1", "c2"}
    assert len(log.failures(count=100)) == 10
    assert log.failures("nobody") == []
    assert redis_client.type("wa:failures") == "stream"


def test_filtered_failures_page_through_a_long_stream(redis_client):
    log = DeliveryLog(redis_client, FixedClock(NOON))
    log.record_failure("old", {}, 131026, "Undeliverable")
    for _ in range(450):
        log.record_failure("busy", {}, 100, "Invalid parameter")
    (found,) = log.failures("old")
    assert found["conv"] == "old"


def test_a_status_change_of_our_message_is_published_once_and_a_stale_one_not_at_all(redis_client):
    """Open console pages refresh on DELIVERY_STATUSES; the publish rides in the status's own
    script call."""
    from core.channels import DELIVERY_STATUSES

    log = DeliveryLog(redis_client, FixedClock(NOON))
    log.record_sent("wamid.7", "c7", BODY)
    pubsub = redis_client.pubsub()
    pubsub.subscribe(DELIVERY_STATUSES)
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    assert log.record_status(status("wamid.7", "read")) is True
    assert log.record_status(status("wamid.7", "delivered")) is False  # late: read stays
    assert log.record_status(status("wamid.unknown", "read")) is True  # not ours: nothing to refresh
    published = [pubsub.get_message(timeout=0.5) for _ in range(3)]
    pubsub.close()
    assert [json.loads(m["data"]) for m in published if m] == [{"conv": "c7"}]
