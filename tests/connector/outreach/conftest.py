"""Outreach fixtures: the real register (templates.yml) and consent on the test Redis, a FixedClock,
the real CloudSender against the scripted Graph (fake_graph.py), and the console's stand-in Rasa."""
from __future__ import annotations

import pytest

from core.clock import FixedClock
from core.rasa_api import RasaHttp
from connector.cloudapi.sender import CloudSender, RetryPolicy
from connector.policy.consent import MARKETING, TRANSACTIONAL, ConsentRegister
from connector.policy.templates import TemplateRegister
from connector.outreach.engine import Contact, Outreach, Request
from connector.outreach.history import TrackerHistory
from connector.outreach.store import SendStore
from connector.outreach.worker import OutreachWorker
from tests.connector.fake_graph import CONFIG, NOON, FakeGraph, Sleeper
from tests.console.fake_rasa import FakeRasa

OPTED_IN = "5215512340001"      # transactional and marketing
NOT_OPTED_IN = "5215512340002"  # nothing recorded
ORDER = ["A-1042", "María", "A-1042", "1250.00 MXN"]


@pytest.fixture
def clock():
    return FixedClock(NOON)


@pytest.fixture
def consent(redis_client, clock):
    register = ConsentRegister(redis_client, clock)
    for purpose in (TRANSACTIONAL, MARKETING):
        register.record(OPTED_IN, purpose, "opted_in", "web_form", by="test")
    return register


@pytest.fixture
def templates(redis_client, clock):
    register = TemplateRegister(redis_client, clock)
    register.load_file()
    return register


@pytest.fixture(scope="session")
def rasa_server():
    fake = FakeRasa().start()  # one server: stopping one takes half a second
    yield fake
    fake.stop()


@pytest.fixture
def rasa(rasa_server):
    for recorded in (rasa_server.events, rasa_server.slots, rasa_server.requests):
        recorded.clear()
    rasa_server.fail_posts = False
    return rasa_server


@pytest.fixture
def outreach(redis_client, clock, consent, templates, rasa):
    return Outreach(redis_client, clock, rasa=RasaHttp(rasa.url, rasa.token))


@pytest.fixture
def order(outreach):
    """order(to=…, key=…, **request fields) → the submission's Result."""
    def submit(*tos, key="k1", client="shop", params=ORDER, **fields):
        contacts = [Contact(to, list(params)) for to in (tos or (OPTED_IN,))]
        return outreach.submit(Request("order_confirmation", contacts, key, client, **fields))
    return submit


@pytest.fixture
def make_worker(redis_client, clock, rasa):
    """make_worker(graph) → a worker (a new one each call: a restarted process)."""
    def make(graph=None, **options):
        store = SendStore(redis_client, clock)
        sender = CloudSender(CONFIG, redis_client, clock, (graph or FakeGraph()).client(),
                             sleep=Sleeper(clock), rng=lambda: 1.0, retry=RetryPolicy(attempts=2))
        history = TrackerHistory(store, RasaHttp(rasa.url, rasa.token), clock)
        return OutreachWorker(store, sender, history, clock, **options)
    return make
