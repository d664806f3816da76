"""The events the real assistant writes through endpoints.yml's broker read as the turns we expect.

Rasa's agent with the trained model, the action server and Rasa's SQLEventBroker on a real
SQLite file: the shape the recorder imitates and the reader relies on is Rasa's, not ours.
"""
from __future__ import annotations

import time

import pytest

from bot.insights.reader import EventInsights
from bot.insights.turns import read_turns
from tests.connector.channel.conftest import action_server  # noqa: F401  (a fixture)

from .recorder import sqlite_url

pytestmark = pytest.mark.model


async def test_the_real_agents_events_give_faq_answers_fallbacks_and_the_handoff(
        trained_model, action_server, redis_client, tmp_path):  # noqa: F811
    from rasa.core.agent import Agent
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import EndpointConfig

    url = sqlite_url(tmp_path)
    broker = SQLEventBroker(host=url)
    agent = Agent.load(str(trained_model), tracker_store=InMemoryTrackerStore(Domain.empty(), broker),
                       lock_store=InMemoryLockStore(), action_endpoint=EndpointConfig(action_server))
    start = time.time()
    for text in ("cuanto cuesta el envio", '/faq_pick{"faq_key":"returns"}', "xkq zzv wpl", "qqq jjj vvv"):
        await agent.handle_text(text, sender_id="5215500000001")

    typed, picked, miss1, miss2 = read_turns(EventInsights(url).engine, start - 1, time.time() + 1)
    assert typed.answered_faq == "shipping_cost" and typed.faq_ranking[0][0] == "shipping_cost"
    assert typed.response_seconds is not None and typed.response_seconds >= 0
    # The menu's answer comes from the custom action; its bot events name the response too.
    assert picked.answered_faq == "returns" and not picked.typed
    assert miss1.fallback and not miss1.handoff and miss1.ended_in_handoff
    assert miss2.fallback and miss2.handoff  # the second miss in a row hands over
    assert miss1.faq_ranking and 0 < miss1.faq_ranking[0][1] < 1
    # Rasa's own session start and the handoff's pause make it one conversation, handed over.
    conversation, = EventInsights(url).search.conversations("5215500000001")
    assert conversation.handoff and conversation.customer_messages == 4
