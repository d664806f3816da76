"""Messages WhatsApp did not deliver are shown on the conversation, escaped."""
from __future__ import annotations

from ..conftest import cpath


def test_delivery_failures_are_shown(client_for, assigned, redis_client, clock):
    from connector.cloudapi.delivery import DeliveryLog

    conv = assigned("ana")
    DeliveryLog(redis_client, clock).record_failure(
        conv, {"type": "text", "text": {"body": "Tu pedido <b>llega</b> mañana"}}, 131026,
        "Message undeliverable", "The number may not be on WhatsApp", agent="ana")
    page = client_for("ana").get(cpath(conv)).get_data(as_text=True)
    assert "Delivery problems" in page and "Message undeliverable" in page and "131026" in page
    assert "Tu pedido &lt;b&gt;llega&lt;/b&gt; mañana" in page


def test_a_failed_agent_reply_is_marked_on_its_own_bubble_not_shown_as_sent(client_for, assigned, fake_rasa,
                                                                             redis_client, clock):
    from connector.cloudapi.delivery import DeliveryLog, event_key
    from connector.cloudapi.errors import advice_for

    conv = assigned("ana")
    sent_at, failed_at = clock.now().timestamp() + 1, clock.now().timestamp() + 2
    fake_rasa.add(conv, {"event": "bot", "text": "Ya lo reviso", "metadata": {"agent": "ana"}, "timestamp": sent_at},
                  {"event": "bot", "text": "Te escribo mañana", "metadata": {"agent": "ana"}, "timestamp": failed_at})
    log = DeliveryLog(redis_client, clock)
    for wamid, at in (("wamid.OK", sent_at), ("wamid.NO", failed_at)):
        log.record_sent(wamid, conv, {"to": conv, "type": "text"}, agent="ana")
        log.link(conv, event_key(at), [wamid])
    log.record_status({"id": "wamid.OK", "status": "read", "timestamp": 1})
    log.record_status({"id": "wamid.NO", "status": "failed", "timestamp": 1,
                       "errors": [{"code": 131047, "title": "Re-engagement message"}]})
    history = client_for("ana").get(f"{cpath(conv)}/history").get_data(as_text=True)
    read, failed = history.split("Ya lo reviso")[1].split("Te escribo mañana")
    assert 'data-status="read"' in read and "ticks-read" in read
    assert 'data-status="failed"' in failed and "Re-engagement message" in failed and "131047" in failed
    assert advice_for(131047) in failed and "ticks" not in failed
    # The failure panel says what to do too (one owner of the advice: connector/cloudapi/errors.py).
    assert client_for("ana").get(cpath(conv)).get_data(as_text=True).count(advice_for(131047)) == 2
