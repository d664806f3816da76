"""The agent desk's delivery state through the whole product: an agent's reply from the console
goes Rasa → WhatsAppOutput → the emulator, whose status webhooks (sent, delivered, read,
failed) come back through the connector and show on that reply's bubble in the history."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from bot import csat
from bot.hours.replies import domain_responses, variation
from core.redis_conn import get_redis
from tests.test_end_to_end import Customer, text_of
from tests.test_handoff_end_to_end import console, path  # noqa: F401  (fixture)

pytestmark = pytest.mark.model

def bubbles(console, wa_id: str) -> list[tuple[str, str]]:
    """(kind, html) of each bubble of the conversation's history partial."""
    html = console.get(f"{path(wa_id)}/history").get_data(as_text=True)
    return [tuple(part.split('">', 1)) for part in html.split('<div class="msg msg-')[1:]]


def agent_bubble(console, wa_id: str, text: str, wanted: str, timeout: float = 30) -> str:
    """The html of the agent bubble with `text` once its state is `wanted` (polls)."""
    deadline = time.monotonic() + timeout
    found = ""
    while time.monotonic() < deadline:
        found = next((html for kind, html in bubbles(console, wa_id) if kind == "agent" and text in html), "")
        if f'data-status="{wanted}"' in found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"the bubble of {text!r} never became {wanted}: {found}")


def hand_off(stack, console, wa_id: str) -> Customer:
    customer = Customer(stack, wa_id, "Lucía")
    customer.says("quiero hablar con un asesor")
    customer.wait_for_replies(1)
    claim(console, wa_id)
    return customer


def claim(console, wa_id: str) -> None:
    assert console.get("/").status_code == 200  # the queue lists the chat (and knows its ref)
    assert console.post(f"/claim/{path(wa_id)[3:]}", data={"csrf_token": console.csrf}).status_code in (302, 303)


def reply(console, wa_id: str, text: str) -> None:
    sent = console.post(f"{path(wa_id)}/reply", data={"text": text, "csrf_token": console.csrf})
    assert sent.status_code in (302, 303), sent.get_data(as_text=True)


def test_each_agent_reply_shows_its_own_ticks_and_a_131047_failure_with_what_to_do(stack, console):
    wa_id = "5215512340301"
    customer = hand_off(stack, console, wa_id)
    reply(console, wa_id, "Hola Lucía, lo reviso.")
    (first,) = customer.wait_for_replies(1)
    assert "ticks-delivered" in agent_bubble(console, wa_id, "Hola Lucía, lo reviso.", "delivered")

    # Meta accepts the next one, then its status webhook says the window had closed.
    httpx.post(f"{stack.emulator_url}/_emulator/faults",
               json={"next": [{"code": 131047, "async": True, "to": wa_id}]}, timeout=10).raise_for_status()
    reply(console, wa_id, "Te escribo por tu pedido.")
    failed = agent_bubble(console, wa_id, "Te escribo por tu pedido.", "failed")
    assert "131047" in failed and "send an approved template" in failed
    assert "ticks" not in failed  # not shown as sent

    # The customer reads the first: its bubble turns blue, the failed one stays failed.
    httpx.post(f"{stack.emulator_url}/_emulator/customers/{wa_id}/seen", json={"ids": [first["id"]]},
               timeout=10).raise_for_status()
    assert "ticks-read" in agent_bubble(console, wa_id, "Hola Lucía, lo reviso.", "read")
    assert 'data-status="failed"' in agent_bubble(console, wa_id, "Te escribo por tu pedido.", "failed")
    # The bot's own replies go out the same way and show their state too.
    assert any('data-status="' in html for kind, html in bubbles(console, wa_id) if kind == "bot")


def resolve(console, wa_id: str) -> None:
    done = console.post(f"{path(wa_id)}/resolve", data={"csrf_token": console.csrf, "confirm": "1"})
    assert done.status_code in (302, 303), done.get_data(as_text=True)


def ana_csat(stack) -> csat.AgentDay:
    """ana's figures for today and yesterday (a run may cross midnight)."""
    today = datetime.now(timezone.utc).date()
    rows = csat.Csat(get_redis(stack.redis_url)).results(today - timedelta(days=1), today, timezone.utc)
    return csat.totals(rows)["ana"]


def test_csat_after_a_resolve_in_the_customers_language_recorded_for_the_agent_and_thanked(stack, console):
    wa_id = "5215512340303"
    responses = domain_responses()
    customer = Customer(stack, wa_id, "John")
    customer.says("hi, i want to speak to a person please")
    customer.wait_for_replies(1)
    claim(console, wa_id)
    resolve(console, wa_id)
    closing, question = customer.wait_for_replies(2)
    assert text_of(question) == variation(csat.ASK, "en", responses)["text"]
    assert [b["reply"]["title"] for b in question["body"]["interactive"]["action"]["buttons"]] == \
        ["👍 Good", "😐 Okay", "👎 Bad"]

    before = ana_csat(stack)  # other tests of the run resolve chats as ana too
    customer.taps(question, "👍 Good")
    (thanks,) = customer.wait_for_replies(1)
    assert text_of(thanks) == csat.reply(True, "en", responses)  # not "Sorry, I didn't understand"
    row = ana_csat(stack)
    assert row.scores["good"] == before.scores["good"] + 1

    customer.taps(question, "👎 Bad")  # a second tap changes nothing
    (closed,) = customer.wait_for_replies(1)
    assert text_of(closed) == csat.reply(False, "en", responses)
    again = ana_csat(stack)
    assert (again.scores["good"], again.scores["bad"]) == (row.scores["good"], row.scores["bad"])
