"""An action that meets Redis restarting waits for it: rasa_sdk would answer Rasa with a 500,
and Rasa would end the turn without the action's messages (the customer left unanswered)."""
from __future__ import annotations

import threading

from actions import handoff
from core.redis_conn import EmbeddedRedis, free_port


def test_the_actions_redis_client_waits_for_a_restarting_redis(monkeypatch, tmp_path):
    server = EmbeddedRedis(tmp_path / "redis", port=free_port())
    monkeypatch.setenv("REDIS_URL", server.start())
    handoff._redis.cache_clear()
    restart = threading.Timer(1.0, server.start)
    try:
        client = handoff._redis()
        client.set("notice", "sent")
        server.stop()  # appendonly: the key is back after the restart
        restart.start()
        assert client.get("notice") == "sent"
    finally:
        restart.join()
        server.stop()
        handoff._redis.cache_clear()
