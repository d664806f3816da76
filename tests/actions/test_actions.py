"""Custom actions that need no Rasa server: run with a hand-built rasa_sdk tracker."""
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff as handoff_actions


def _user(text, intent):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def _tracker(events):
    return Tracker("34600", {}, events[-1]["parse_data"] if events[-1]["event"] == "user" else {},
                   events, False, None, {}, "action_listen")


def test_a_miss_after_the_agent_returned_the_chat_does_not_hand_off_again(monkeypatch):
    # While an agent had the chat the paused tracker logged the customer's free-form
    # messages, most of them nlu_fallback; they are not misses of the bot.
    handed = []
    monkeypatch.setattr(handoff_actions, "hand_off", lambda *a: handed.append(a) or [])
    events = [
        _user("no entiendo", "nlu_fallback"),
        {"event": "action", "name": "action_fallback"},
        _user("sigo sin entender", "nlu_fallback"),
        {"event": "action", "name": "action_fallback"},
        {"event": "pause"},
        _user("mi pedido es 12345", "nlu_fallback"),
        _user("gracias, espero", "nlu_fallback"),
        {"event": "resume"},
        {"event": "action", "name": "action_listen"},
        _user("asdfgh", "nlu_fallback"),
    ]
    dispatcher = CollectingDispatcher()
    assert handoff_actions.ActionFallback().run(dispatcher, _tracker(events), {}) == []
    assert handed == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_default"]


def test_two_misses_in_a_row_still_hand_off(monkeypatch):
    handed = []
    monkeypatch.setattr(handoff_actions, "hand_off", lambda *a: handed.append(a) or ["paused"])
    events = [
        {"event": "resume"},
        _user("asdf", "nlu_fallback"),
        {"event": "action", "name": "action_fallback"},
        _user("qwer", "nlu_fallback"),
    ]
    assert handoff_actions.ActionFallback().run(CollectingDispatcher(), _tracker(events), {}) == ["paused"]
    assert len(handed) == 1
