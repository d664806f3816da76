"""The desk's chat list and unread counts (console/desk/chat_list.py, unread.py) on a real Redis
with a FixedClock: what each row says, and when a chat counts as read."""
from __future__ import annotations

import datetime as dt

from console.desk.chat_list import chat_list
from console.desk.labels import COLOURS
from console.desk.unread import ReadMarks

from ..conftest import cpath

OTHER = "5215500001111"


def rows_of(app, agent):
    with app.test_request_context():
        return chat_list(agent)


def test_unread_counts_per_agent_since_they_last_opened_the_chat(redis_client, handoff):
    reads = ReadMarks(redis_client)
    handoff.request("c1", reason="talk", last_message="hola")
    assert reads.unread("ana", [handoff.state("c1")]) == {"c1": 1}  # the message that asked for a person
    reads.mark_read("ana", handoff.state("c1"))
    handoff.update_last_message("c1", "¿sigues ahí?")
    handoff.update_last_message("c1", "te mando foto")
    chat = handoff.state("c1")
    assert reads.unread("ana", [chat]) == {"c1": 2}
    assert reads.unread("luis", [chat]) == {"c1": 3}  # luis never opened it
    assert reads.unread("ana", []) == {}


def test_a_new_handoff_of_the_same_customer_is_unread_again(redis_client, handoff, clock):
    reads = ReadMarks(redis_client)
    handoff.request("c1", reason="talk", last_message="hola")
    handoff.update_last_message("c1", "gracias")
    handoff.claim("c1", "ana")
    reads.mark_read("ana", handoff.state("c1"))  # seen 2
    handoff.resolve("c1", "ana")
    clock.advance(hours=3)
    handoff.request("c1", reason="talk", last_message="otra vez yo")
    handoff.update_last_message("c1", "hola?")
    # Counting restarted at 2 in the new handoff: the old mark (2 seen) must not hide them.
    assert reads.unread("ana", [handoff.state("c1")]) == {"c1": 2}


def test_rows_show_name_unread_last_message_its_time_and_the_window(app, queued, handoff, window, clock):
    window.record_inbound(OTHER, clock.now() - dt.timedelta(hours=23, minutes=30))
    handoff.request(OTHER, reason="talk", name="Beto", last_message="¿tienen talla 27?")
    handoff.claim(OTHER, "ana")
    clock.advance(minutes=10)
    waiting = queued(name="María López", text="Quiero cambiar mi talla")
    clock.advance(minutes=5)
    handoff.update_last_message(waiting, "¿me atienden?")
    listing = rows_of(app, "ana")
    [row] = listing.mine
    assert (row.chat.name, row.unread, row.chat.last_message) == ("Beto", 1, "¿tienen talla 27?")
    assert row.last_at == clock.now() - dt.timedelta(minutes=15)
    # 23 h 30 m ago plus the 15 minutes since: 15 minutes left, minus the 60 s safety margin.
    assert row.sendable_until - listing.now == dt.timedelta(minutes=14)
    [row] = listing.waiting
    assert (row.chat.name, row.unread, row.chat.last_message, row.last_at) == (
        "María López", 2, "¿me atienden?", clock.now())
    clock.advance(minutes=14)
    assert rows_of(app, "ana").mine[0].sendable_until is None  # closed: no time left to show


def test_opening_a_chat_marks_it_read_and_the_list_says_so(app, client_for, queued, handoff, fake_rasa):
    ana = client_for("ana")
    conv = queued(name="María López")
    handoff.update_last_message(conv, "¿hola?")
    page = ana.get("/desk/chats").get_data(as_text=True)
    assert 'class="unread-count" title="Unread customer messages">2<' in page
    assert "María López" in page and "¿hola?" in page
    ana.get(cpath(conv))
    assert rows_of(app, "ana").waiting[0].unread == 0
    handoff.update_last_message(conv, "sigo aquí")
    assert rows_of(app, "ana").waiting[0].unread == 1
    ana.get(cpath(conv) + "/history")  # the open chat fetches its history when the customer writes
    assert rows_of(app, "ana").waiting[0].unread == 0
    assert rows_of(app, "luis").waiting[0].unread == 3


def test_the_conversation_page_lists_the_chats_beside_it(client_for, assigned, queued, handoff):
    ana = client_for("ana")
    mine = assigned(conv=OTHER, name="Beto")
    queued(name="<b>Rosa</b>")
    page = ana.get(cpath(mine)).get_data(as_text=True)
    assert 'id="chat-list"' in page and 'id="desk-main"' in page
    assert "&lt;b&gt;Rosa&lt;/b&gt;" in page  # escaped, never markup
    assert page.index('id="chat-rows-mine"') < page.index('chat-row-name">Beto<') < page.index('id="chat-rows-waiting"')
    assert OTHER not in page  # rows link by reference, never by phone number


def test_a_waiting_chat_can_be_claimed_from_its_page(client_for, queued, handoff):
    ana = client_for("ana")
    conv = queued()
    page = ana.get(cpath(conv)).get_data(as_text=True)
    assert 'id="claim-form"' in page
    response = ana.post(f"/claim/{cpath(conv)[3:]}", data={"csrf_token": ana.csrf})
    assert response.status_code == 302 and handoff.state(conv).agent == "ana"


def test_the_queue_page_shows_the_same_unread_counts(client_for, queued, handoff):
    ana = client_for("ana")
    conv = queued()
    handoff.update_last_message(conv, "¿hola?")
    assert 'title="Unread customer messages">2<' in ana.get("/queue/partial").get_data(as_text=True)
    ana.get(cpath(conv))
    assert "Unread customer messages" not in ana.get("/queue/partial").get_data(as_text=True)


def test_rows_carry_the_chats_labels_and_the_list_links_to_the_history(app, client_for, queued, handoff):
    waiting = queued(name="María López", text="Quiero cambiar mi talla")
    handoff.claim(waiting, "ana")
    labels = app.extensions["console"].labels
    label = labels.create("Cambio de talla", COLOURS[0])
    labels.put(handoff.state(waiting), label.id)
    [row] = rows_of(app, "ana").mine
    assert [l.name for l in row.labels] == ["Cambio de talla"]
    page = client_for("ana").get("/desk/chats").get_data(as_text=True)
    assert "Cambio de talla" in page and 'href="/history"' in page
