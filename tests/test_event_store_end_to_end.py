"""`rasa run` as `make run` starts it writes every turn to the event store the workspace reads."""
from __future__ import annotations

import time

import pytest

from bot.insights.reader import EventInsights
from tests.test_end_to_end import Customer

pytestmark = pytest.mark.model


def test_a_chat_on_whatsapp_reaches_the_event_store_through_rasas_broker(stack):
    customer = Customer(stack, "5215500099001")
    customer.says("cuanto cuesta el envio")
    customer.wait_for_replies(2)
    customer.says("xkq zzv wpl qqj")
    customer.wait_for_replies(1)
    insights = EventInsights(stack.env["EVENTS_DB_URL"])
    deadline = time.monotonic() + 30
    while True:  # Rasa saves (and so publishes) just after the replies have left
        groups = insights.not_understood()
        stats = insights.faq_stats(time.time() - 600)
        if (any(m.text == "xkq zzv wpl qqj" for g in groups for m in g.messages)
                and stats.get("shipping_cost", (0, 0))[0] >= 1):
            break
        assert time.monotonic() < deadline, (groups, stats)
        time.sleep(0.3)
    assert customer.wa_id not in repr(groups)
