"""Submitting sends: checked whole, consent asked at once, idempotent, the customer's language."""
import datetime as dt

import pytest

from core.rasa_api import RasaHttp
from core.redis_conn import free_port

from connector.cloudapi.delivery import DeliveryLog
from connector.outreach.engine import Contact, Request, RequestError, normalize_to
from connector.outreach.store import DUE_KEY, REFUSED, SCHEDULED, IdempotencyConflict

from .conftest import NOT_OPTED_IN, OPTED_IN


def test_an_opted_in_contact_is_scheduled_and_one_who_did_not_opt_in_is_refused_at_once(order, outreach, redis_client):
    result = order(OPTED_IN, NOT_OPTED_IN)
    scheduled, refused = result.sends
    assert (scheduled.state, scheduled.template, scheduled.language) == (SCHEDULED, "order_confirmation", "es_MX")
    assert scheduled.text.startswith("Pedido A-1042 confirmado")
    assert refused.state == REFUSED and refused.reason == "transactional: no opt-in recorded for this contact"
    assert redis_client.zrange(DUE_KEY, 0, -1) == [scheduled.id]  # the refused one never goes
    # Recorded where people look at failures, and readable later by its id.
    (failure,) = DeliveryLog(redis_client).failures(NOT_OPTED_IN)
    assert (failure["kind"], failure["title"]) == ("refused", refused.reason)
    assert outreach.status(refused.id)["state"] == REFUSED


def test_a_marketing_template_needs_a_marketing_opt_in(outreach, consent):
    consent.record(NOT_OPTED_IN, "transactional", "opted_in", "web_form")
    result = outreach.submit(Request("promo_temporada", [Contact(NOT_OPTED_IN, ["Ana", "20 %", "31 de enero"])], "m1", "shop"))
    (send,) = result.sends
    assert send.state == REFUSED and send.reason.startswith("marketing:")


def test_repeating_a_request_returns_the_same_ids_and_a_changed_one_is_a_conflict(order):
    first = order(OPTED_IN, key="order-A-1042")
    again = order(OPTED_IN, key="order-A-1042")
    assert again.existing and [s.id for s in again.sends] == [s.id for s in first.sends]
    with pytest.raises(IdempotencyConflict):
        order(OPTED_IN, key="order-A-1042", params=["A-1043", "María", "A-1043", "10.00 MXN"])


def test_a_wrong_request_stores_nothing_and_says_what_is_wrong(order, redis_client):
    with pytest.raises(RequestError) as caught:
        order(OPTED_IN, params=["only one"])
    assert "contacts[0] (5215512340001)" in str(caught.value) and "parameter" in str(caught.value)
    with pytest.raises(RequestError, match=r"contacts\[1\]\.to"):
        order(OPTED_IN, "not-a-number")
    with pytest.raises(RequestError, match="idempotency_key"):
        order(OPTED_IN, key="")
    with pytest.raises(RequestError, match="time zone"):
        order(OPTED_IN, send_at=dt.datetime(2026, 2, 1, 9, 0))
    assert redis_client.zcard(DUE_KEY) == 0


def test_an_unknown_template_is_a_request_error(outreach):
    with pytest.raises(RequestError, match="no template named"):
        outreach.submit(Request("no_such_template", [Contact(OPTED_IN, [])], "x", "shop"))


def test_the_language_is_the_callers_then_the_trackers_then_the_registers_order(order, outreach, rasa):
    assert order(OPTED_IN, key="a", language="en_US").sends[0].language == "en_US"
    rasa.slots[OPTED_IN] = {"language": "en"}
    assert order(OPTED_IN, key="b").sends[0].language == "en_US"
    outreach.rasa = RasaHttp(f"http://127.0.0.1:{free_port()}")  # Rasa down: the register's order decides
    assert order(OPTED_IN, key="c").sends[0].language == "es_MX"


def test_send_at_schedules_for_later_and_a_past_time_means_now(order, clock):
    later = clock.now() + dt.timedelta(hours=3)
    assert order(OPTED_IN, key="a", send_at=later).sends[0].due == later
    assert order(OPTED_IN, key="b", send_at=clock.now() - dt.timedelta(days=1)).sends[0].due == clock.now()


def test_numbers_are_written_as_whatsapp_ids():
    assert normalize_to("+52 1 55-1234 5678") == "5215512345678"
    assert normalize_to("US.13491208655302741918") == "US.13491208655302741918"
    with pytest.raises(ValueError):
        normalize_to("12")
