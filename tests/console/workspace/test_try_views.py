"""The Try it page: leads ask, the JSON endpoint says what the question waits for, and the answer
shows the draft model's pick as the worker stored it (tests/bot/content/test_try.py makes real
ones) with the messages the customer gets."""
from __future__ import annotations

import re
import time

import pytest

from bot.content.catalog import load_catalog
from bot.content.publish_store import PublishStore
from bot.content.try_store import BUILDING, DONE, FAILED, QUEUE, TryStore


@pytest.fixture
def lead(client_for):
    return client_for("lucia")


def variations(project, key: str) -> list[dict]:
    """The FAQ's answers as the model's domain (in the parse) carries them."""
    return [v.raw for vs in load_catalog(project / "data" / "faq").get(key).answers.values() for v in vs]


def answered(redis_client, result: dict, **extra) -> str:
    store = TryStore(redis_client)
    asked = store.ask("pregunta de prueba", "lucia")
    store.next_request()
    asked.update(state=DONE, result=result, **extra)
    store.save(asked)
    return f"/try/ask/{asked['id']}"


def result(label: str, confidence: float, responses=(), intent: str = "faq", language="es", **extra) -> dict:
    return {"intent": intent, "language": language, "responses": list(responses),
            "ranking": [{"label": label, "confidence": confidence},
                        {"label": "faq/international_shipping", "confidence": 0.12},
                        {"label": "out_of_scope", "confidence": 0.04}],
            "model": "/p/var/publish/build/assistant.tar.gz", "unpublished": [], "live": None, **extra}


def test_only_leads_try_and_the_faq_pages_link_to_it(client_for, lead):
    ana = client_for("ana")
    assert ana.get("/try/").status_code == 403
    assert ana.post("/try/ask", data={"question": "hola"}, headers={"X-CSRFToken": ana.csrf}).status_code == 403
    assert 'href="/try/"' not in ana.get("/").get_data(as_text=True)
    assert 'href="/try/"' in lead.get("/").get_data(as_text=True)
    assert 'id="try-link" href="/try/"' in lead.get("/faqs/").get_data(as_text=True)
    editor = lead.get("/faqs/shipping_cost").get_data(as_text=True)
    first = load_catalog(lead.application.extensions["console"].faqs.root / "data" / "faq").get("shipping_cost").examples["es"][0]
    link = re.search(r'id="try-link" href="([^"]+)"', editor).group(1)
    page = lead.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert f'value="{first}"' in page and 'src="/static/try.js"' in page
    assert 'id="worker-down"' in page, "no worker heartbeat: questions would wait"
    PublishStore(lead.application.extensions["console"].redis).heartbeat("worker")
    assert 'id="worker-down"' not in lead.get("/try/").get_data(as_text=True)


def test_a_question_is_queued_for_the_worker_and_the_page_says_what_it_waits_for(lead, redis_client):
    assert lead.post("/try/ask", data={"question": "  "}, headers={"X-CSRFToken": lead.csrf}).status_code == 400
    response = lead.post("/try/ask", data={"question": " cuanto  cuesta el envio "}, headers={"X-CSRFToken": lead.csrf})
    assert response.status_code == 202
    url = response.get_json()["url"]
    assert redis_client.lrange(QUEUE, 0, -1) == [response.get_json()["id"]]
    assert TryStore(redis_client).request(response.get_json()["id"])["question"] == "cuanto cuesta el envio"
    assert "worker is not running" in lead.get(url).get_json()["waiting"]

    publish = PublishStore(redis_client)
    publish.heartbeat("worker")
    job, _ = publish.enqueue("marta")
    assert "A publish by marta goes first" in lead.get(url).get_json()["waiting"]
    job.update(state="running", stage="train")
    publish.save(job)
    waiting = lead.get(url).get_json()
    assert waiting["state"] == "queued" and "A publish by marta is running (train)" in waiting["waiting"]
    TryStore(redis_client).set_draft({"state": BUILDING, "started": time.time() - 3, "seconds": None, "model": None})
    assert "Building the draft model" in lead.get(url).get_json()["waiting"]
    assert lead.get("/try/ask/nope").status_code == 404


def test_the_answer_shows_the_faq_its_confidence_the_threshold_from_config_and_the_runners_up(lead, redis_client, project):
    config = project / "config.yml"
    config.write_text(config.read_text().replace("threshold: 0.35", "threshold: 0.42"))
    url = answered(redis_client, result("faq/shipping_cost", 0.9762, variations(project, "shipping_cost"),
                                        unpublished=["data/faq/shipping_cost.yml"]), built_seconds=4.25)
    body = lead.get(url).get_json()
    assert body["state"] == DONE
    html = body["html"]
    first = load_catalog(project / "data" / "faq").get("shipping_cost").examples["es"][0]
    assert 'href="/faqs/shipping_cost"' in html and f"“{first}”" in html
    assert "98 %" in html and "threshold 42 %" in html
    runners_up = re.search(r'id="try-runners-up">(.*?)</table>', html, re.S).group(1)
    assert "faq/international_shipping</td><td>12 %" in runners_up and "out_of_scope" in runners_up
    assert "es (detected)" in html
    assert "unpublished changes in data/faq/shipping_cost.yml" in html and "Built for this question in 4.2 s" in html
    chat = html[html.index('id="try-preview"'):]
    assert "$99 MXN" in chat, "the FAQ's answer, as in its file"
    assert "¿Algo más?" in chat and '<span class="wa-button">Hablar con persona</span>' in chat, "what follows the answer"


def test_the_customer_gets_the_answer_in_english_with_its_buttons_as_a_list_and_the_offer_of_a_person(lead, redis_client, project):
    answers = variations(project, "damaged_wrong_item")
    menu = [{"title": f"Option {n}", "payload": "/main_menu"} for n in range(4)]
    answers = [dict(v, buttons=menu) for v in answers]
    html = lead.get(answered(redis_client, result("faq/damaged_wrong_item", 0.8, answers, language="en",
                                                  live={"id": "p1", "kind": "publish"}))).get_json()["html"]
    chat = html[html.index('id="try-preview"'):]
    english, spanish = (next(v["text"] for v in answers if bool(v.get("condition")) == c) for c in (True, False))
    assert english[:20] in chat and spanish[:20] not in chat, "the variation of the detected language"
    assert "☰" in chat and "<li>Option 3</li>" in chat, "more than three buttons: a list"
    assert "A person from our team can sort this out with you" in chat, "offer_agent: the bot offers a person"
    assert '<span class="wa-button">Talk to a person</span>' in chat
    assert "the same FAQs as live (publish p1)" in html


def test_the_opening_hours_answer_has_the_hours_the_bot_fills_in_and_whether_it_is_open_now(lead, redis_client, project):
    html = lead.get(answered(redis_client, result("faq/opening_hours", 0.95, variations(project, "opening_hours")))).get_json()["html"]
    chat = html[html.index('id="try-preview"'):]
    assert "{hours_week}" not in chat and "Lunes" in chat
    # The test clock: Monday 06:00 in Mexico City, before opening.
    assert "En este momento estamos <strong>cerrados</strong>" in chat


def test_below_the_threshold_the_customer_gets_the_fallback_message_instead(lead, redis_client):
    html = lead.get(answered(redis_client, result("faq/shipping_cost", 0.21, intent="nlu_fallback", language=None))).get_json()["html"]
    assert 'id="try-fallback"' in html and "21 %" in html
    assert "not sure: the chat's language stays (es in a new chat)" in html
    chat = html[html.index('id="try-preview"'):]
    assert "Perdón, no te entendí" in chat and "$99" not in chat
    assert '<span class="wa-button">Ver menú</span>' in chat
    assert "A second miss in a row hands the chat to a person" in chat


def test_an_intent_answers_with_its_rule_and_a_failure_says_why(lead, redis_client):
    html = lead.get(answered(redis_client, result("out_of_scope", 0.83, intent="out_of_scope"))).get_json()["html"]
    assert "(not an FAQ)" in html and "Perdón, con eso no te puedo ayudar" in html
    greet = lead.get(answered(redis_client, result("greet", 0.98, intent="greet"))).get_json()["html"]
    assert "the bot runs action_greet" in greet
    store = TryStore(redis_client)
    asked = store.ask("hola", "lucia")
    asked.update(state=FAILED, error="RuntimeError: Rasa training failed (code 1)")
    store.save(asked)
    assert "could not answer: RuntimeError: Rasa training failed" in lead.get(f"/try/ask/{asked['id']}").get_json()["html"]
