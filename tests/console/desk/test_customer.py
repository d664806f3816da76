"""What an agent sees of the customer: a partly masked number, the opt-in status."""
from __future__ import annotations

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
    assert "unknown" in page  # opt-in not recorded yet
    redis_client.set(f"optin:{conv}", "opted_in")
    assert "opted_in" in ana.get(cpath(conv)).get_data(as_text=True)
