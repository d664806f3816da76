"""Each module's scripts on a real Redis Cluster: their main paths give the same results as on one
Redis (and no call is refused for keys in several slots: tests/conftest.py checks every call)."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.csat import Csat
from bot.handoff import Handoff
from bot.hours.notice import AfterHoursNotice
from connector.cloudapi.delivery import DeliveryLog
from connector.cloudapi.pacing import Pacer, Throughput
from connector.outreach.history import TrackerHistory
from connector.outreach.store import SCHEDULED, SENDING, SendStore, new_id
from connector.policy.consent import MARKETING, OPTED_IN, OPTED_OUT, ConsentRegister
from connector.policy.quality import QualityRegister
from connector.policy.templates import TemplateRegister
from connector.policy.tier import MessagingTier
from connector.policy.window import ServiceWindow
from console.auth.throttle import LoginThrottle
from console.auth.users import USER_PREFIX, LastLead, UserStore
from core.clock import FixedClock
from tests.bot.hours.test_schedule import hours
from tests.connector.fake_graph import NOON

LEASE = dt.timedelta(seconds=60)


def _policy(client, clock):
    tier, quality, consent = MessagingTier(client, clock), QualityRegister(client, clock), ConsentRegister(client, clock)
    window, templates = ServiceWindow(client, clock), TemplateRegister(client, clock)
    log = [tier.reserve(c).allowed for c in ("521", "522", "521")]
    log += [tier.set_tier("TIER_2K", source="cli"), tier.set_tier("TIER_2K", source="cli"), tier.usage().tier]
    log += [quality.record_quality("FLAGGED", ref="q1"), quality.record_quality("FLAGGED", ref="q1"),
            quality.marketing_pause() is not None, quality.resume_marketing("lucia"),
            quality.record_account("ACCOUNT_VIOLATION", ref="a1"), len(quality.history())]
    log += [consent.record("521", MARKETING, OPTED_IN, "web_form", ref="c1"),
            consent.record("521", MARKETING, OPTED_IN, "web_form", ref="c1"),
            consent.record("521", MARKETING, OPTED_OUT, "message", ref="c2"),
            consent.allows("521", MARKETING).allowed, list(consent.contacts()), len(consent.history("521"))]
    window.record_inbound("521", clock.now() - dt.timedelta(hours=1))
    window.close("521")
    log += [window.status("521").reason]
    log += [templates.record_status("order_update", "es", "approved", ref="t1"),
            templates.record_status("order_update", "es", "approved", ref="t1"),
            templates.record_quality("order_update", "es", "green", ref="t2")]
    return log


def _cloudapi(client, clock):
    pacer, throughput, delivery = Pacer(client, clock=clock), Throughput(client, "1", clock=clock), DeliveryLog(client, clock)
    log = [pacer.reserve("521"), pacer.reserve("521"), throughput.reserve()]
    delivery.record_sent("wamid.o1", "521", {"to": "521", "type": "text"})
    delivery.record_status({"id": "wamid.o1", "status": "delivered", "timestamp": "1750000000"})
    delivery.record_status({"id": "wamid.o1", "status": "sent", "timestamp": "1750000001"})
    log += [delivery.get("wamid.o1")["status"]]
    return log


def _bot(client, clock):
    csat, notice = Csat(client, clock), AfterHoursNotice(client, hours("closed_forever"), clock)
    csat.ask("521", "ana")
    log = [csat.answer("521", "good"), csat.answer("521", "bad"), notice.should_send("521"), notice.should_send("521")]
    return log + [[(row.agent, row.answered) for row in csat.results(NOON.date(), NOON.date(), dt.timezone.utc)]]


def _console(client, clock):
    throttle, users = LoginThrottle(client, limit=2), UserStore(client)
    log = [throttle.acquire("ana", "1.2.3.4"), throttle.acquire("ana", "1.2.3.4"), throttle.acquire("ana", "1.2.3.4") is not None]
    throttle.record_success("ana", "1.2.3.4")
    for name, role in (("lucia", "lead"), ("ana", "agent")):  # as create() stores them, without the slow hash
        client.hset(USER_PREFIX + name, mapping={"name": name, "role": role, "password_hash": "-", "session_epoch": "e"})
    with pytest.raises(LastLead):
        users.update("lucia", role="agent")
    log += [users.update("ana", role="lead").role, users.update("lucia", role="agent").role]
    return log


def _outreach(client, clock):
    store, history = SendStore(client, clock), TrackerHistory(SendStore(client, clock), rasa=None, clock=clock)
    now = store.now_ms()

    def send(due):
        return {"id": new_id(), "to": "521", "contact": "521", "template": "t", "state": SCHEDULED,
                "due": due, "params": "[]", "body": "{}"}

    first = store.submit("shop", "k", "fp", [send(now), send(now), send(now + 3_600_000)])
    log = [store.submit("shop", "k", "fp", []).ids == first.ids]
    claimed = store.claim("w1", 10, LEASE)
    log += [len(claimed), store.claim("w2", 10, LEASE)]
    log += [store.start(claimed[0], "w1"), store.finish(claimed[1], "w1")]  # the second: let go as it is
    clock.advance(minutes=2)  # w1 died: its lease expired
    lost = store.recover()
    log += [lost == [claimed[0]], store.get(claimed[0]).state, store.get(claimed[1]).state]
    log += [store.move(first.ids[2], (SCHEDULED,), "held"), store.move(first.ids[2], ("held",), SCHEDULED)]
    history.enqueue(claimed[0])
    log += [history.pending(), [s.state for s in store.waiting()], store.get(claimed[0]).state != SENDING]
    return log


def _handoff(client, clock):
    h = Handoff(client, clock, agent_timeout_seconds=120)
    log = [h.request(c, "r", "es", "n", "hola").position for c in ("a", "b", "c", "d")]
    log += [h.set_online("ana", True), h.set_online("beto", True), h.claim("a", "ana"), h.claim("a", "beto")]
    log += [h.update_last_message("a", "sigo aquí"), h.transfer("a", "ana", "beto").state,
            h.transfer("a", "beto", None).position, h.claim_next("ana"), h.resolve("a", "ana")]
    h.reopen("a", "ana")
    h.assign("b", "beto", "lucia")
    log += [h.cancel("c"), h.claim("d", "beto"), h.set_online("beto", False)]
    clock.advance(seconds=121)
    h.heartbeat("ana")
    log += [h.requeue_abandoned(), [c.conv for c in h.waiting()], [c.conv for c in h.assigned()],
            [c.conv for c in h.assigned_to("ana")], [e["type"] for e in h.history("a")]]
    return log


@pytest.mark.parametrize("scenario", [_policy, _cloudapi, _bot, _console, _outreach, _handoff])
def test_a_module_runs_on_a_cluster_as_on_one_redis(scenario, redis_client, cluster_client):
    on_cluster = scenario(cluster_client, FixedClock(NOON))
    assert on_cluster == scenario(redis_client, FixedClock(NOON))
