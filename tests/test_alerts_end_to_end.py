"""An alert end to end, on the emulator: an order confirmation to an opted-in customer goes out
through the outreach worker process, enters the conversation's Rasa history, and the customer's reply
gets the bot's answer as in any conversation."""
from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from bot.content.catalog import load_catalog
from core.rasa_api import RasaHttp
from core.redis_conn import get_redis
from connector.outreach.engine import Contact, Outreach, Request
from connector.outreach.history import HISTORY_KEY
from connector.policy.consent import ConsentRegister
from connector.policy.templates import TemplateRegister
from tests.stack import ROOT
from tests.test_end_to_end import Customer, text_of

pytestmark = pytest.mark.model


def test_an_order_confirmation_reaches_the_customer_enters_the_history_and_the_bot_answers_the_reply(stack):
    wa_id = "5215512347001"
    redis = get_redis(stack.redis_url)
    TemplateRegister(redis).load_file()  # as `make run` does at start
    ConsentRegister(redis).record(wa_id, "transactional", "opted_in", "web_form", by="checkout")
    rasa = RasaHttp(stack.rasa_url, stack.env["RASA_TOKEN"])
    outreach = Outreach(redis, rasa=rasa)
    (send,) = outreach.submit(Request("order_confirmation", [Contact(wa_id, ["A-1042", "María", "A-1042", "1250.00 MXN"])],
                                      "order-A-1042", "shop")).sends
    assert send.state == "scheduled"

    # The worker as `make run` starts it (ops/launcher.py), against the stack's Rasa and emulator.
    log = open(stack.log_dir / "outreach.log", "wb")
    worker = subprocess.Popen([sys.executable, "-m", "connector.outreach.worker"], cwd=ROOT, env=stack.env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while outreach.status(send.id)["state"] != "sent" or redis.zcard(HISTORY_KEY):
            assert worker.poll() is None, f"the worker exited; see {stack.log_dir / 'outreach.log'}"
            assert time.monotonic() < deadline, outreach.status(send.id)
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(10)
        log.close()
    status = outreach.status(send.id)
    assert status["state"] == "sent", status

    customer = Customer(stack, wa_id, "María")
    (alert,) = customer.wait_for_replies(1)
    assert alert["body"]["type"] == "template" and alert["body"]["template"]["name"] == "order_confirmation"
    assert alert["id"] == status["wamid"]
    events = httpx.get(f"{stack.rasa_url}/conversations/{wa_id}/tracker",
                       params={"token": stack.env["RASA_TOKEN"]}, timeout=10).json()["events"]
    (bot,) = [e for e in events if e["event"] == "bot"]
    assert bot["data"]["custom"]["template"]["name"] == "order_confirmation"
    assert bot["text"] == send.text and "A-1042" in bot["text"]

    customer.says("cuanto cuesta el envio")
    answer, _ = customer.wait_for_replies(2)
    assert text_of(answer) == load_catalog().get("shipping_cost").answer("es")
