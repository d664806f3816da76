"""Handoff.reopen against a real Redis: a resolved chat straight back to its agent, or a lead's."""
from __future__ import annotations

import pytest

from bot.handoff import InvalidTransition, NotYourChat

from .test_handoff import clock, h, queue  # noqa: F401  (fixtures and the queue helper)


def test_reopen_takes_a_resolved_chat_straight_back_to_its_agent(h, clock, redis_client):
    queue(h, "c1")
    h.claim("c1", "ana")
    h.resolve("c1", "ana")
    clock.advance(hours=30)
    h.set_online("ana", False)
    h.reopen("c1", "ana")
    record = h.state("c1")
    assert (record.state, record.agent, record.with_person) == ("assigned", "ana", True)
    assert record.reopened_at == clock.now() and record.resolved_at is None
    assert h.waiting() == [] and [c.conv for c in h.assigned_to("ana")] == ["c1"]
    assert h.is_online("ana")  # reopening is being at the desk, as claiming is
    assert h.history("c1")[-1]["type"] == "reopened"
    # Resolved again, it can be reopened again.
    h.resolve("c1", "ana")
    h.reopen("c1", "ana")
    assert h.state("c1").state == "assigned"


def test_only_the_agent_it_was_resolved_from_or_a_lead_reopens_a_chat(h):
    queue(h, "c1")
    h.claim("c1", "ana")
    h.resolve("c1", "lucia", is_lead=True)
    with pytest.raises(NotYourChat):
        h.reopen("c1", "luis")
    assert h.state("c1").state == "bot"
    h.reopen("c1", "lucia", is_lead=True)
    assert h.state("c1").agent == "lucia"
    # Held by a person: no reopen; a chat left from the queue was never resolved.
    with pytest.raises(InvalidTransition):
        h.reopen("c1", "lucia", is_lead=True)
    queue(h, "c2")
    h.cancel("c2")
    with pytest.raises(InvalidTransition):
        h.reopen("c2", "lucia", is_lead=True)
    with pytest.raises(InvalidTransition):
        h.reopen("never-seen", "lucia", is_lead=True)
