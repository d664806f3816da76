"""actions/server.py: the action server answers Rasa (which holds the shared token) and no one else."""
from __future__ import annotations

import httpx
import pytest

from tests.stack import Stack

CALL = {"next_action": "action_handoff", "sender_id": "5215550001111", "version": "3.6.2",
        "tracker": {"sender_id": "5215550001111", "slots": {}, "latest_message": {"text": "x"},
                    "events": [], "paused": False, "latest_event_time": None,
                    "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"},
        "domain": {}}


@pytest.fixture(scope="module")
def actions(redis_url, tmp_path_factory):
    stack = Stack(redis_url, model=None, log_dir=tmp_path_factory.mktemp("actions-logs"), with_emulator=False)
    stack.start(only=("actions",))
    yield stack
    stack.stop()


def test_a_webhook_call_without_the_token_is_refused(actions, redis_client):
    # Anyone who could reach /webhook could run action_handoff with a made-up tracker and
    # put a fake chat with a phishing text in front of the agents.
    response = httpx.post(f"{actions.actions_url}/webhook", json=CALL, timeout=10)
    assert response.status_code == 401
    assert redis_client.keys("*") == []


def test_a_webhook_call_with_a_wrong_token_is_refused(actions, redis_client):
    response = httpx.post(f"{actions.actions_url}/webhook", params={"token": "guess"}, json=CALL, timeout=10)
    assert response.status_code == 403
    assert redis_client.keys("*") == []


def test_the_action_list_needs_the_token_too(actions):
    assert httpx.get(f"{actions.actions_url}/actions", timeout=10).status_code == 401
    allowed = httpx.get(f"{actions.actions_url}/actions", params={"token": actions.env["ACTION_SERVER_TOKEN"]},
                        timeout=10)
    assert allowed.status_code == 200
    assert {"name": "action_handoff"} in allowed.json()


def test_health_stays_open_for_probes(actions):
    assert httpx.get(f"{actions.actions_url}/health", timeout=10).status_code == 200
