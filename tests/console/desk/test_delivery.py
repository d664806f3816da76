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
