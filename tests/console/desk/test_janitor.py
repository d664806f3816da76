"""Chats whose agent stopped sending heartbeats go back to the queue."""
from __future__ import annotations

import time

from console.desk.janitor import Janitor


def test_janitor_calls_requeue_until_stopped():
    calls = []

    class Desk:
        def requeue_abandoned(self):
            calls.append(1)
            if len(calls) == 1:
                raise ConnectionError("redis restarting")  # must not kill the thread

    janitor = Janitor(Desk(), interval_seconds=0.02).start()
    time.sleep(0.2)
    janitor.stop()
    assert len(calls) >= 2


def test_background_janitor_requeues_abandoned_chats(redis_client, clock, fake_rasa, users, queued):
    from bot.handoff import Handoff
    from console import create_app

    handoff = Handoff(redis_client, clock, agent_timeout_seconds=60)
    app = create_app({"REDIS": redis_client, "CLOCK": clock, "HANDOFF": handoff, "RASA_URL": fake_rasa.url,
                      "SECRET_KEY": "s", "START_JANITOR": True, "REQUEUE_INTERVAL_SECONDS": 0.05})
    try:
        conv = queued()
        assert handoff.claim(conv, "ana")
        clock.advance(seconds=61)  # ana's tab stopped sending heartbeats
        deadline = time.monotonic() + 5
        while handoff.state(conv).state != "queued" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert handoff.state(conv).state == "queued"
    finally:
        app.extensions["console_janitor"].stop()
