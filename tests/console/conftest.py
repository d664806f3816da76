"""Console fixtures: the app on the real test Redis, a FixedClock, a fake Rasa, three users."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.clock import FixedClock
from core.redis_conn import get_redis
from bot.handoff import Handoff
from connector.policy.window import ServiceWindow
from console import create_app
from console.refs import ConversationRefs
from console.auth.users import USER_PREFIX, UserStore

from .fake_rasa import FakeRasa

PASSWORDS = {"ana": "ana-secret-pass-1", "luis": "luis-secret-pass-2", "lucia": "lucia-secret-pass-3"}
ROLES = {"ana": "agent", "luis": "agent", "lucia": "lead"}
CUSTOMER = "5215512341234"
SECRET = "test-secret"
CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def clock():
    return FixedClock(dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc))


@pytest.fixture
def fake_rasa():
    fake = FakeRasa().start()
    yield fake
    fake.stop()


@pytest.fixture
def handoff(redis_client, clock):
    return Handoff(redis_client, clock)


@pytest.fixture
def window(redis_client, clock):
    return ServiceWindow(redis_client, clock)


@pytest.fixture(scope="session")
def user_records(redis_url):
    """The three users as UserStore.create writes them, made once per worker in a spare
    database and restored into each test's: every password hash costs about 0.1 s of CPU
    (scrypt), and most console tests start with these three users."""
    spare = get_redis(urlunsplit(urlsplit(redis_url)._replace(path="/15")))
    spare.flushdb()
    store = UserStore(spare)
    for name, password in PASSWORDS.items():
        store.create(name, ROLES[name], password)
    records = {key: spare.dump(key) for key in spare.scan_iter(USER_PREFIX + "*")}
    spare.flushdb()
    spare.close()
    return records


@pytest.fixture
def users(redis_client, user_records):
    for key, record in user_records.items():
        redis_client.restore(key, 0, record)
    return UserStore(redis_client)


@pytest.fixture
def app(redis_client, clock, fake_rasa, users):
    return create_app({
        "REDIS": redis_client,
        "CLOCK": clock,
        "RASA_URL": fake_rasa.url,
        "RASA_TOKEN": fake_rasa.token,
        "SECRET_KEY": SECRET,
        "TESTING": True,
        "SSE_MAX_SECONDS": 2,
    })


def cpath(conversation_id: str) -> str:
    """The console URL of a conversation (its opaque reference, never the phone number)."""
    return "/c/" + ConversationRefs(None, SECRET).compute(conversation_id)


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, name: str, password: str | None = None, **environ):
    token = csrf_token(client)
    return client.post("/login", data={"username": name, "password": password or PASSWORDS[name],
                                       "csrf_token": token}, environ_base=environ)


@pytest.fixture
def client_for(app):
    """client_for("ana") -> a test client signed in as ana, with .csrf for posts."""
    def make(name: str):
        client = app.test_client()
        response = login(client, name)
        assert response.status_code == 302, response.get_data(as_text=True)
        client.csrf = csrf_token(client, "/")
        return client
    return make


@pytest.fixture
def queued(handoff, window, clock, fake_rasa, app):
    """A customer waiting for an agent, who wrote a minute ago (window open)."""
    def make(conv: str = CUSTOMER, name: str = "María López", language: str = "es", text: str = "Quiero cambiar mi talla"):
        window.record_inbound(conv, clock.now())
        # The bot answers a request for a person (so resolving asks nothing: the message was answered).
        fake_rasa.add(conv, {"event": "user", "text": text},
                      {"event": "bot", "text": "Te comunico con una persona de nuestro equipo."})
        handoff.request(conv, reason="talk_to_person", language=language, name=name, last_message=text)
        app.extensions["console_refs"].ref(conv)
        return conv
    return make


@pytest.fixture
def assigned(queued, handoff):
    def make(agent: str = "ana", **kwargs):
        conv = queued(**kwargs)
        assert handoff.claim(conv, agent)
        return conv
    return make
