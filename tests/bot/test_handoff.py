"""Handoff lifecycle against a real Redis: transitions, races, queue order, ETA, presence, events."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from core.channels import HANDOFF_EVENTS
from core.clock import FixedClock
from bot.handoff import (
    AgentOffline,
    Handoff,
    InvalidTransition,
    NotYourChat,
    Ticket,
)
from bot.handoff.keys import KEYS, HandoffKeys
from core.redis_conn import get_redis

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def clock():
    return FixedClock(T0)


@pytest.fixture
def h(redis_client, clock):
    return Handoff(redis_client, clock, avg_handle_seconds=300, agent_timeout_seconds=120)


def queue(h: Handoff, *convs: str, priority: int = 0) -> None:
    for conv in convs:
        h.request(conv, reason="talk", language="es", name=conv.upper(), last_message="hola", priority=priority)


def order(h: Handoff) -> list[str]:
    return [c.conv for c in h.waiting()]


# ---- request / state --------------------------------------------------------------------

def test_request_queues_and_is_idempotent(h, clock):
    assert h.state("c1").state == "bot"
    ticket = h.request("c1", reason="devolución", language="en", name="Ana", last_message="help", priority=1)
    assert ticket == Ticket(position=1, eta_seconds=None, state="queued", created=True)
    record = h.state("c1")
    assert (record.state, record.agent, record.reason, record.language, record.name, record.last_message,
            record.priority) == ("queued", None, "devolución", "en", "Ana", "help", 1)
    assert record.queued_at == T0 and record.assigned_at is None and record.with_person
    clock.advance(seconds=30)
    again = h.request("c1", reason="other", language="es", name="X", last_message="again")
    assert (again.position, again.state, again.created) == (1, "queued", False)
    assert h.state("c1").reason == "devolución" and h.state("c1").queued_at == T0
    h.claim("c1", "ana")
    assigned = h.request("c1", "talk", "es", "Ana", "hola")
    assert (assigned.position, assigned.state, assigned.created) == (0, "assigned", False)
    assert [e["type"] for e in h.history("c1")] == ["queued", "claimed"]


def test_request_validation(h):
    with pytest.raises(ValueError, match="priority"):
        h.request("c1", "r", "es", "n", "m", priority=1000)
    with pytest.raises(ValueError, match="conversation id"):
        h.request("", "r", "es", "n", "m")
    with pytest.raises(ValueError, match="agent id"):
        h.claim("c1", "")


def test_long_last_message_is_clipped(h):
    h.request("c1", "r", "es", "n", "x" * 5000)
    assert len(h.state("c1").last_message) == 1000


# ---- queue order, position, ETA ---------------------------------------------------------

def test_fifo_with_priority(h, clock):
    for conv, priority in [("a", 0), ("b", 0), ("vip1", 2), ("c", 0), ("low", -1), ("vip2", 2), ("d", 0)]:
        h.request(conv, "r", "es", conv, "m", priority=priority)
        clock.advance(seconds=1)
    assert order(h) == ["vip1", "vip2", "a", "b", "c", "d", "low"]
    assert [c.position for c in h.waiting()] == [1, 2, 3, 4, 5, 6, 7]
    assert [h.position(c) for c in order(h)] == [1, 2, 3, 4, 5, 6, 7]
    assert h.position("nobody") is None
    # Same-instant requests still keep arrival order (the sequence breaks ties, not the clock).
    for i in range(20):
        h.request(f"same{i}", "r", "es", "n", "m")
    assert order(h)[6:26] == [f"same{i}" for i in range(20)]


def test_eta_fallback_uses_online_agents(h):
    queue(h, "a", "b", "c")
    assert h.eta("c") is None  # nobody online
    h.set_online("ana", True)
    assert h.eta("a") == 300 and h.eta("c") == 900
    h.set_online("beto", True)
    assert h.eta("a") == 150 and h.eta("c") == 450
    assert h.request("d", "r", "es", "n", "m").eta_seconds == 600
    assert h.eta("nobody") is None


def test_eta_stale_agents_do_not_count(h, clock):
    queue(h, "a")
    h.set_online("ana", True)
    clock.advance(seconds=121)  # no heartbeat for longer than the timeout
    assert h.online_agents() == [] and h.eta("a") is None
    h.heartbeat("ana")
    assert h.online_agents() == ["ana"] and h.is_online("ana") and h.eta("a") == 300


def test_eta_uses_moving_average_of_recent_waits(h, clock):
    h.set_online("ana", True)
    # Three customers each joined at place 1 and waited 60 s: 60 s per place.
    for conv in ("w1", "w2", "w3"):
        queue(h, conv)
        clock.advance(seconds=60)
        assert h.claim(conv, "ana")
    queue(h, "x", "y")
    assert h.eta("x") == 60 and h.eta("y") == 120
    # y joined at place 2 and waited 240 s: 120 s per place -> average of (60, 60, 60, 120) = 75.
    clock.advance(seconds=240)
    assert h.claim("y", "ana")
    assert h.eta("x") == 75


def test_ticket(h):
    queue(h, "a", "b")
    h.set_online("ana", True)
    assert h.ticket("b") == Ticket(2, 600, "queued")
    h.claim("b", "ana")
    assert h.ticket("b") == Ticket(0, 0, "assigned")
    assert h.ticket("zzz") == Ticket(0, None, "bot")


# ---- claim --------------------------------------------------------------------------------

def test_claim_only_from_queued(h, clock):
    queue(h, "c1")
    clock.advance(seconds=10)
    assert h.claim("c1", "ana") is True
    record = h.state("c1")
    assert (record.state, record.agent, record.assigned_at) == ("assigned", "ana", T0 + dt.timedelta(seconds=10))
    assert order(h) == []
    assert [c.conv for c in h.assigned_to("ana")] == ["c1"]
    assert [c.conv for c in h.assigned()] == ["c1"]
    assert h.claim("c1", "beto") is False  # already assigned
    assert h.claim("c1", "ana") is False  # even to the same agent
    assert h.claim("never-queued", "ana") is False
    assert h.state("never-queued").state == "bot"
    h.resolve("c1", "ana")
    assert h.claim("c1", "beto") is False  # back with the bot
    # Claiming shows the agent at the desk.
    assert h.is_online("ana")


def test_claim_next(h):
    assert h.claim_next("ana") is None
    queue(h, "a", "b")
    queue(h, "urgent", priority=5)
    assert [h.claim_next("ana"), h.claim_next("beto"), h.claim_next("ana"), h.claim_next("ana")] == [
        "urgent", "a", "b", None]
    assert sorted(c.conv for c in h.assigned_to("ana")) == ["b", "urgent"]
    assert [c.conv for c in h.assigned_to("beto")] == ["a"]


# ---- transfer -----------------------------------------------------------------------------

def test_transfer_to_agent(h, clock):
    queue(h, "c1")
    h.claim("c1", "ana")
    with pytest.raises(AgentOffline, match="beto"):
        h.transfer("c1", "ana", "beto")
    h.set_online("beto", True)
    with pytest.raises(NotYourChat, match="assigned to 'ana'"):
        h.transfer("c1", "carla", "beto")
    with pytest.raises(InvalidTransition, match="already assigned"):
        h.transfer("c1", "ana", "ana")
    clock.advance(seconds=5)
    assert h.transfer("c1", "ana", "beto") == Ticket(0, 0, "assigned")
    record = h.state("c1")
    assert (record.state, record.agent, record.previous_agent, record.transfers) == ("assigned", "beto", "ana", 1)
    assert h.assigned_to("ana") == [] and [c.conv for c in h.assigned_to("beto")] == ["c1"]
    # Ana no longer owns it; a lead may still move it.
    with pytest.raises(NotYourChat):
        h.transfer("c1", "ana", "ana")
    h.set_online("lupe", True)
    clock.advance(seconds=121)
    with pytest.raises(AgentOffline):  # online, but no heartbeat for longer than the timeout
        h.transfer("c1", "lead", "lupe", is_lead=True)
    h.heartbeat("lupe")
    h.transfer("c1", "lead", "lupe", is_lead=True)
    assert h.state("c1").agent == "lupe" and h.state("c1").transfers == 2
    assert [e["type"] for e in h.history("c1")] == ["queued", "claimed", "transferred", "transferred"]


def test_transfer_requires_assigned(h):
    with pytest.raises(InvalidTransition, match="'bot'"):
        h.transfer("nobody", "ana", None)
    queue(h, "c1")
    with pytest.raises(InvalidTransition, match="'queued'"):
        h.transfer("c1", "ana", None, is_lead=True)


def test_transfer_back_to_queue_keeps_original_place(h, clock):
    queue(h, "a", "b")
    h.claim("a", "ana")
    clock.advance(seconds=60)
    queue(h, "c")
    queue(h, "vip", priority=3)
    assert order(h) == ["vip", "b", "c"]
    clock.advance(seconds=60)
    ticket = h.transfer("a", "ana", None)
    # It asked before b and c, so it goes ahead of them, but not ahead of a higher priority.
    assert order(h) == ["vip", "a", "b", "c"]
    assert (ticket.position, ticket.state) == (2, "queued")
    record = h.state("a")
    assert (record.state, record.agent, record.previous_agent, record.assigned_at) == ("queued", None, "ana", None)
    assert record.queued_at == T0 and record.enqueued_at == T0 + dt.timedelta(seconds=120)
    assert h.assigned_to("ana") == []
    event = h.history("a")[-1]
    assert (event["type"], event["why"], event["previous_agent"], event["by"]) == ("requeued", "transfer", "ana", "ana")
    # A lead can send someone else's chat back.
    h.claim("b", "beto")
    h.transfer("b", "lupe", None, is_lead=True)
    assert order(h) == ["vip", "a", "b", "c"]


# ---- resolve / cancel ---------------------------------------------------------------------

def test_resolve(h, clock):
    queue(h, "c1")
    h.claim("c1", "ana")
    with pytest.raises(NotYourChat) as err:
        h.resolve("c1", "beto")
    assert (err.value.owner, err.value.agent) == ("ana", "beto")
    clock.advance(minutes=5)
    h.resolve("c1", "ana")
    record = h.state("c1")
    assert (record.state, record.agent, record.previous_agent, record.resolved_by) == ("bot", None, "ana", "ana")
    assert record.resolved_at == T0 + dt.timedelta(minutes=5) and not record.with_person
    assert h.assigned_to("ana") == [] and h.assigned() == []
    events = h.history("c1")[-2:]
    assert [(e["type"], e["from"], e["to"]) for e in events] == [
        ("resolved", "assigned", "resolved"), ("returned", "resolved", "bot")]
    with pytest.raises(InvalidTransition, match="'bot'"):
        h.resolve("c1", "ana")
    # The customer can ask for a person again: a fresh ticket.
    assert h.request("c1", "again", "es", "n", "m").created
    with pytest.raises(InvalidTransition, match="'queued'"):
        h.resolve("c1", "ana", is_lead=True)
    h.claim("c1", "beto")
    h.resolve("c1", "lupe", is_lead=True)
    assert h.state("c1").resolved_by == "lupe"


def test_cancel(h):
    assert h.cancel("nobody") is False
    queue(h, "a", "b")
    assert h.cancel("a") is True
    assert h.state("a").state == "bot" and order(h) == ["b"]
    assert h.cancel("a") is False
    h.claim("b", "ana")
    with pytest.raises(InvalidTransition, match="agent already has it"):
        h.cancel("b")
    assert h.state("b").state == "assigned"
    assert [e["type"] for e in h.history("a")] == ["queued", "cancelled"]


def test_update_last_message(h):
    assert h.update_last_message("nobody", "hi") is False
    assert h.state("nobody").state == "bot"
    assert h.redis.exists(KEYS.conv("nobody")) == 0
    queue(h, "c1")
    assert h.update_last_message("c1", "¿ya?") is True
    assert h.waiting()[0].last_message == "¿ya?"
    h.claim("c1", "ana")
    assert h.update_last_message("c1", "gracias") is True
    assert h.assigned_to("ana")[0].last_message == "gracias"
    assert [e["type"] for e in h.history("c1")] == ["queued", "claimed"]  # not a transition


# ---- presence and abandoned chats ---------------------------------------------------------

def test_presence_is_what_online_agents_counts(h, clock):
    """The supervisor's presence column and online_agents() (transfers, the ETA) agree."""
    h.set_online("ana", True)
    h.set_online("luis", True)
    clock.advance(seconds=121)
    h.heartbeat("ana")
    h.heartbeat("pepe")  # a heartbeat alone is not the switch
    presence = h.presence()
    assert {name: (p.said_online, p.online) for name, p in presence.items()} == {
        "ana": (True, True), "luis": (True, False), "pepe": (False, False)}
    assert presence["luis"].last_seen == T0 and presence["ana"].last_seen == clock.now()
    assert h.online_agents() == ["ana"]


def test_a_lead_assigns_a_waiting_chat_only_to_an_available_agent(h, clock, redis_client):
    queue(h, "c1")
    with pytest.raises(AgentOffline):
        h.assign("c1", "luis", "lucia")
    h.set_online("luis", True)
    clock.advance(seconds=30)
    h.assign("c1", "luis", "lucia")
    chat = h.state("c1")
    assert (chat.state, chat.agent) == ("assigned", "luis") and h.assigned_to("luis")[0].conv == "c1"
    last = h.history("c1")[-1]
    assert (last["type"], last["agent"], last["by"]) == ("assigned", "luis", "lucia")
    # Not the agent's own action: their last heartbeat stays where it was.
    assert h.presence()["luis"].last_seen == T0
    with pytest.raises(InvalidTransition):
        h.assign("c1", "luis", "lucia")


def test_set_online_reports_changes(h, clock):
    assert h.online_agents() == []
    assert h.set_online("ana", True) is True
    assert h.set_online("ana", True) is False
    assert h.online_agents() == ["ana"]
    assert h.set_online("ana", False) is True
    assert h.set_online("ana", False) is False
    assert h.online_agents() == [] and not h.is_online("ana")


def test_requeue_after_missed_heartbeats(h, clock):
    queue(h, "a", "b")
    h.set_online("ana", True)
    h.claim("a", "ana")
    clock.advance(seconds=100)
    h.heartbeat("ana")
    clock.advance(seconds=119)
    assert h.requeue_abandoned() == []
    clock.advance(seconds=1)  # 120 s since the last heartbeat
    assert h.requeue_abandoned() == ["a"]
    assert order(h) == ["a", "b"]  # original place
    record = h.state("a")
    assert (record.state, record.agent, record.previous_agent) == ("queued", None, "ana")
    event = h.history("a")[-1]
    assert (event["type"], event["why"], event["previous_agent"]) == ("requeued", "abandoned", "ana")
    assert h.requeue_abandoned() == []  # idempotent


def test_requeue_after_going_offline(h, clock):
    queue(h, "a", "b", "c")
    h.claim("a", "ana")
    h.claim("b", "beto")
    h.claim("c", "ana")
    h.set_online("ana", False)
    clock.advance(seconds=60)
    h.heartbeat("ana")  # the page is still open, but she said she is away
    h.heartbeat("beto")
    assert h.requeue_abandoned() == []
    clock.advance(seconds=60)
    h.heartbeat("beto")
    assert sorted(h.requeue_abandoned()) == ["a", "c"]
    assert order(h) == ["a", "c"] and h.state("b").agent == "beto"
    # Back online within the timeout: nothing moves.
    h.claim("a", "carla")
    h.set_online("carla", False)
    clock.advance(seconds=30)
    h.set_online("carla", True)
    clock.advance(seconds=100)
    h.heartbeat("beto")
    assert h.requeue_abandoned() == []
    # A custom threshold from the caller.
    assert h.requeue_abandoned(offline_after_seconds=90) == ["a"]


def test_agent_timeout_from_env(redis_client, clock, monkeypatch):
    monkeypatch.setenv("HANDOFF_AGENT_TIMEOUT", "30")
    h = Handoff(redis_client, clock)
    assert h.agent_timeout_seconds == 30
    queue(h, "a")
    h.claim("a", "ana")
    clock.advance(seconds=30)
    assert h.requeue_abandoned() == ["a"]
    monkeypatch.delenv("HANDOFF_AGENT_TIMEOUT")
    assert Handoff(redis_client, clock).agent_timeout_seconds == 120


# ---- visibility ---------------------------------------------------------------------------

def test_events_published_for_every_transition(h, redis_url):
    listener = Handoff(get_redis(redis_url)).subscribe()
    try:
        queue(h, "a", "b")
        h.set_online("ana", True)
        h.set_online("beto", True)
        h.claim("a", "ana")
        h.update_last_message("a", "hola")
        h.transfer("a", "ana", "beto")
        h.transfer("a", "beto", None)
        h.claim("a", "ana")
        h.resolve("a", "ana")
        h.cancel("b")
        h.set_online("beto", False)
        received = []
        while True:
            message = listener.get_message(timeout=0.3)
            if message is None:
                break
            assert message["channel"] == HANDOFF_EVENTS
            received.append(json.loads(message["data"]))
    finally:
        listener.close()
    assert [(e["type"], e.get("conv")) for e in received] == [
        ("queued", "a"), ("queued", "b"), ("agent_online", None), ("agent_online", None),
        ("claimed", "a"), ("updated", "a"), ("transferred", "a"), ("requeued", "a"), ("claimed", "a"),
        ("resolved", "a"), ("returned", "a"), ("cancelled", "b"), ("agent_offline", None),
    ]
    assert all(e["at"] == T0.timestamp() for e in received)
    # The history holds exactly the transitions that were broadcast.
    transitions = [e for e in received if e.get("conv") == "a" and e["type"] != "updated"]
    assert h.history("a") == transitions


def test_every_key_and_channel_the_scripts_use_comes_from_the_layout(redis_client, clock):
    # A layout unlike the real one (a quote even, for the generated Lua literals; its own hash
    # tag, as every layout needs on a cluster): any name a
    # script or a read spelled itself would show up outside it.
    layout = HandoffKeys(prefix="other'ns:{h}:", events="other-events")
    h = Handoff(redis_client, clock, avg_handle_seconds=300, agent_timeout_seconds=120, keys=layout)
    spy = redis_client.pubsub()
    spy.psubscribe("*")
    assert spy.get_message(timeout=5)["type"] == "psubscribe"
    queue(h, "a", "b", "c", "d")
    h.set_online("ana", True)
    h.set_online("beto", True)
    h.heartbeat("ana")
    h.claim("a", "ana")
    h.update_last_message("a", "hola")
    h.transfer("a", "ana", "beto")
    h.transfer("a", "beto", None)
    assert h.claim_next("ana") == "a"
    h.resolve("a", "ana")
    h.cancel("b")
    h.claim("c", "beto")
    h.set_online("beto", False)
    clock.advance(seconds=121)
    h.heartbeat("ana")
    assert h.requeue_abandoned() == ["c"]
    assert [c.conv for c in h.waiting()] == ["c", "d"] and h.assigned() == [] and h.assigned_to("beto") == []
    assert h.history("a") and h.state("c").previous_agent == "beto" and h.position("d") == 2
    assert h.estimate_wait(1) is not None and h.online_agents() == ["ana"]

    expected = {layout.queue, layout.seq, layout.assigned, layout.online, layout.seen, layout.waits}
    expected |= {key(conv) for conv in "abcd" for key in (layout.conv, layout.history)}
    expected |= {key(agent) for agent in ("ana", "beto") for key in (layout.chats, layout.agent)}
    written = set(redis_client.keys("*"))
    assert written <= expected, written - expected
    assert {layout.queue, layout.seq, layout.online, layout.seen, layout.waits, layout.conv("a"),
            layout.history("a"), layout.agent("beto")} <= written
    channels = set()
    while (message := spy.get_message(timeout=0.3)) is not None:
        channels.add(message["channel"])
    spy.close()
    assert channels == {"other-events"}


def test_the_layout_publishes_on_the_channel_core_names():
    assert KEYS.events == HANDOFF_EVENTS
    assert KEYS.conv("34600") == "handoff:{handoff}:conv:34600"  # one hash tag: one slot on a cluster


def test_a_fresh_client_sees_the_same_state(h, redis_url):
    queue(h, "a", "b")
    h.claim("b", "ana")
    reloaded = Handoff(get_redis(redis_url))
    assert [c.conv for c in reloaded.waiting()] == ["a"]
    assert reloaded.state("b").agent == "ana"
    assert [c.conv for c in reloaded.assigned_to("ana")] == ["b"]


def test_history_is_capped(h, monkeypatch):
    monkeypatch.setattr("bot.handoff.HISTORY_MAX", 5)
    for _ in range(4):
        queue(h, "a")
        h.cancel("a")
    history = h.history("a")
    assert len(history) == 5 and history[-1]["type"] == "cancelled"


# ---- races --------------------------------------------------------------------------------

def _race(redis_url, agents: int, rounds: int, act):
    """Run act(handoff, agent_index, round) in `agents` threads, released together each round."""
    barrier = threading.Barrier(agents)
    results = [[None] * agents for _ in range(rounds)]
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        client = get_redis(redis_url)
        handoff = Handoff(client)
        try:
            for r in range(rounds):
                barrier.wait(timeout=30)
                results[r][index] = act(handoff, index, r)
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
            barrier.abort()
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(agents)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_1000_claim_races_have_exactly_one_winner(h, redis_url):
    rounds, agents = 1000, 4
    for r in range(rounds):
        h.request(f"race{r}", "r", "es", "n", "m")
    results = _race(redis_url, agents, rounds, lambda hd, i, r: hd.claim(f"race{r}", f"agent{i}"))
    for r, row in enumerate(results):
        assert row.count(True) == 1, (r, row)
        assert h.state(f"race{r}").agent == f"agent{row.index(True)}"
    assert h.waiting() == []
    assert sum(len(h.assigned_to(f"agent{i}")) for i in range(agents)) == rounds
    for r in (0, rounds - 1):
        assert [e["type"] for e in h.history(f"race{r}")] == ["queued", "claimed"]


def test_claim_next_race_hands_each_chat_out_once(h, redis_url):
    total, agents = 300, 4
    for r in range(total):
        h.request(f"q{r}", "r", "es", "n", "m")

    def drain(hd, i, _r):
        got = []
        while (conv := hd.claim_next(f"agent{i}")) is not None:
            got.append(conv)
        return got

    results = _race(redis_url, agents, 1, drain)[0]
    taken = [conv for got in results for conv in got]
    assert sorted(taken) == sorted(f"q{r}" for r in range(total))
    assert len(set(taken)) == total
    for i, got in enumerate(results):
        # Each agent got its chats in queue order.
        assert got == sorted(got, key=lambda c: int(c[1:]))
        assert all(h.state(c).agent == f"agent{i}" for c in got)


def test_claim_versus_cancel_race(h, redis_url):
    rounds = 200
    for r in range(rounds):
        h.request(f"cc{r}", "r", "es", "n", "m")

    def act(hd, i, r):
        if i == 0:
            try:
                return "cancelled" if hd.cancel(f"cc{r}") else "noop"
            except InvalidTransition:
                return "too late"
        return "claimed" if hd.claim(f"cc{r}", f"agent{i}") else "lost"

    for r, row in enumerate(_race(redis_url, 3, rounds, act)):
        final = h.state(f"cc{r}").state
        if row[0] == "cancelled":
            assert row[1:] == ["lost", "lost"] and final == "bot"
        else:
            assert row[0] == "too late" and sorted(row[1:]) == ["claimed", "lost"] and final == "assigned"


def test_customer_messages_are_counted_per_handoff_for_the_unread_badge(h, clock):
    """The console's unread count reads this counter: the message that asked for a person
    counts, every later one too (a photo without text as well, with the preview kept), and a
    new handoff starts again from its own first message."""
    h.request("c1", reason="talk", last_message="hola")
    assert h.state("c1").customer_messages == 1
    clock.advance(seconds=30)
    h.update_last_message("c1", "¿ya?")
    h.update_last_message("c1", None)  # not text: counted, the preview stays
    record = h.state("c1")
    assert (record.customer_messages, record.last_message) == (2 + 1, "¿ya?")
    assert record.last_message_at == clock.now()
    h.claim("c1", "ana")
    h.resolve("c1", "ana")
    assert h.update_last_message("c1", "otra") is False  # with the bot: nothing counted
    h.request("c1", reason="talk", last_message="")
    assert h.state("c1").customer_messages == 0
