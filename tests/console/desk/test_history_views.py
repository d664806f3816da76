"""The History pages on a real SQLite event store filled through Rasa's broker: search, a
customer's conversations, one read-only, and reopening a resolved chat."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from console import create_app
from console.desk.labels import Labels
from tests.bot.insights.conversations import Conversations
from tests.bot.insights.recorder import sqlite_url

from ..conftest import CUSTOMER, SECRET, cpath

LAST_WEEK = dt.datetime(2025, 12, 29, 10, 0, tzinfo=dt.timezone.utc).timestamp()
OTHER = "5491122223333"


@pytest.fixture
def events_url(tmp_path):
    return sqlite_url(tmp_path)


@pytest.fixture
def app(redis_client, clock, fake_rasa, users, events_url):
    return create_app({"REDIS": redis_client, "CLOCK": clock, "RASA_URL": fake_rasa.url,
                       "RASA_TOKEN": fake_rasa.token, "SECRET_KEY": SECRET, "TESTING": True,
                       "EVENTS_DB_URL": events_url, "TIMEZONE": "UTC"})


@pytest.fixture
def last_week(app, events_url, handoff, redis_client, clock):
    """María's handoff a week ago: ana helped her with a VIP-labelled exchange and resolved it."""
    app.extensions["console"].insights.engine  # the store's tables, as before Rasa writes
    rec = Conversations(events_url)
    rec.session(CUSTOMER, LAST_WEEK)
    rec.customer(CUSTOMER, LAST_WEEK + 1, "quiero cambiar unos tenis por talla 26", "María López")
    rec.handoff(CUSTOMER, LAST_WEEK + 2)
    rec.agent(CUSTOMER, LAST_WEEK + 60, "ana", "Claro, te mando la guía de cambio")
    rec.resolve(CUSTOMER, LAST_WEEK + 120)
    rec.customer(OTHER, LAST_WEEK + 5, "tienen tenis de 50% descuento", "Juan Pérez")
    labels = Labels(redis_client, clock)
    vip = labels.create("VIP", "purple")
    now = clock.now()
    clock.set(dt.datetime.fromtimestamp(LAST_WEEK, dt.timezone.utc))
    handoff.request(CUSTOMER, reason="talk_to_person", name="María López", last_message="talla 26")
    handoff.claim(CUSTOMER, "ana")
    chat = handoff.state(CUSTOMER)
    labels.put(chat, vip.id)
    clock.set(dt.datetime.fromtimestamp(LAST_WEEK + 119, dt.timezone.utc))
    handoff.resolve(CUSTOMER, "ana")
    labels.close(chat, LAST_WEEK + 119)
    clock.set(now)
    return vip


def links(page: str) -> list[str]:
    return re.findall(r'href="(/history/[0-9a-f]{24}/\d+)"', page)


def test_search_by_text_number_name_label_and_dates_finds_last_weeks_conversation(client_for, last_week):
    luis = client_for("luis")  # any agent: not the one who had it
    page = luis.get("/history", query_string={"q": "talla 26"}).get_data(as_text=True)
    assert "quiero cambiar unos tenis" in page and "Juan" not in page and len(links(page)) == 1
    assert "VIP" in page and "ana" in page
    # The customer's number never appears whole; the mask does.
    assert CUSTOMER not in page and "+52 55 **** 1234" in page
    for query in ({"number": "55 1234 1234"}, {"name": "maría"}, {"label": last_week.id},
                  {"from": "2025-12-29", "to": "2025-12-29", "q": "cambiar"}):
        found = luis.get("/history", query_string=query).get_data(as_text=True)
        assert "quiero cambiar unos tenis" in found and "Juan" not in found, query
    assert "50% descuento" in luis.get("/history", query_string={"q": "50%"}).get_data(as_text=True)
    assert "No messages match" in luis.get("/history", query_string={"q": "5%"}).get_data(as_text=True)
    assert "No messages match" in luis.get("/history", query_string={"from": "2026-01-01", "q": "tenis"}).get_data(as_text=True)
    assert luis.get("/history", query_string={"from": "last week"}).status_code == 400
    assert "No messages match" in luis.get("/history", query_string={"number": "María"}).get_data(as_text=True)
    assert luis.get("/history", query_string={"label": "gone"}).status_code == 404


def test_a_customers_conversations_list_and_one_opens_read_only(client_for, last_week, handoff):
    luis = client_for("luis")
    listing = luis.get("/history", query_string={"name": "López"}).get_data(as_text=True)
    customer_url, = re.findall(r'href="(/history/customer/[0-9a-f]{24})"', listing)
    page = luis.get(customer_url).get_data(as_text=True)
    assert "María López" in page and "29 Dec 10:00" in page and "VIP" in page
    assert "quiero cambiar unos tenis por talla 26" in page
    conversation = luis.get(links(page)[0]).get_data(as_text=True)
    assert "Claro, te mando la guía de cambio" in conversation and "Agent ana" in conversation
    assert 'id="reply-form"' not in conversation and 'id="reopen-button"' in conversation
    assert luis.get(links(page)[0] + "1").status_code == 404


def test_reopen_gives_the_chat_back_and_pauses_the_bot_only_for_its_agent_or_a_lead(
        client_for, last_week, handoff, fake_rasa):
    luis, ana = client_for("luis"), client_for("ana")
    history = links(luis.get("/history", query_string={"q": "talla"}).get_data(as_text=True))[0]
    reopen = history.rsplit("/", 1)[0] + "/reopen"
    assert luis.post(reopen, data={"csrf_token": luis.csrf}).status_code == 403
    assert handoff.state(CUSTOMER).state == "bot" and fake_rasa.posts(CUSTOMER) == []
    response = ana.post(reopen, data={"csrf_token": ana.csrf, "back": history})
    assert response.status_code == 303 and response.headers["Location"].endswith(cpath(CUSTOMER))
    assert (handoff.state(CUSTOMER).state, handoff.state(CUSTOMER).agent) == ("assigned", "ana")
    assert [p.body for p in fake_rasa.posts(CUSTOMER)] == [[{"event": "pause"}]]
    # The last message was a week ago: the window is closed, so templates only.
    page = ana.get(cpath(CUSTOMER)).get_data(as_text=True)
    assert "24-hour window closed" in page and 'id="reply-text"' in page and "disabled" in page
    again = ana.post(reopen, data={"csrf_token": ana.csrf, "back": history}, follow_redirects=True)
    assert "Could not reopen: the chat is already assigned." in again.get_data(as_text=True)
    # A lead may reopen anyone's.
    handoff.resolve(CUSTOMER, "ana")
    lucia = client_for("lucia")
    assert lucia.post(reopen, data={"csrf_token": lucia.csrf}).status_code == 303
    assert handoff.state(CUSTOMER).agent == "lucia"
