"""What an agent sees of the customer: a partly masked number, the consent register's state."""
from __future__ import annotations

import datetime as dt

from connector.policy.consent import MARKETING, OPTED_OUT, TRANSACTIONAL, OPTED_IN, ConsentRegister
from console.desk.customer import mask_number

from ..conftest import CUSTOMER, cpath


def test_numbers_are_partly_masked():
    assert mask_number("5215512341234") == "+52 55 **** 1234"
    assert mask_number("525512341234") == "+52 55 **** 1234"
    assert mask_number("15551234567") == "+1 55 **** 4567"
    assert mask_number("US.13491208655302741918") == "hidden (WhatsApp username contact)"


def test_customer_info_is_masked(client_for, assigned, redis_client):
    conv = assigned("ana")
    ana = client_for("ana")
    page = ana.get(cpath(conv)).get_data(as_text=True)
    assert "+52 55 **** 1234" in page and CUSTOMER not in page  # not even in URLs
    assert page.count(">unknown<") == 2  # neither purpose recorded yet


def test_the_page_shows_each_purposes_state_and_last_change(client_for, assigned, redis_client):
    conv = assigned("ana")
    register = ConsentRegister(redis_client)
    at = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.timezone.utc)
    register.record(conv, TRANSACTIONAL, OPTED_IN, "web_form", at=at, by="checkout")
    register.record(conv, MARKETING, OPTED_OUT, "whatsapp_settings", at=at, by="WhatsApp")
    page = client_for("ana").get(cpath(conv)).get_data(as_text=True)
    assert "opted in · a web form · 2026-11-30 09:15 UTC · checkout" in page
    assert "opted out · the customer&#39;s WhatsApp settings · 2026-11-30 09:15 UTC · WhatsApp" in page
    assert 'data-optin="opted_out"' in page  # the marketing-template hint reads it
