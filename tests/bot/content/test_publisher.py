"""Publish for real: the worker process on a copy of the project (its own git repository), the
running stack's Rasa hot-swapped while customers write, a rollback of model and data/, issue 8's
"done when" as a lead lives it in the browser (inbox, edit, try, publish, rollback), a refused
publish. One worker serves them all (tests/publishing.py), in this order.

Real trainings in this module: each accepted publish's model (built as the draft a try-it
question asks for first, which the publish then reuses) and, beside it in the check
process, the NLU-only check models (the baseline and the publishes; the refused one may
train its model too, the check runs beside the training).
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError


from bot.content import history, training
from bot.content.catalog import load_catalog
from bot.content.publish_store import FINISHED, PUBLISHED, REFUSED, ROLLBACK, PublishStore
from bot.content.try_store import DONE, FINISHED as TRY_FINISHED, TryStore
from bot.insights.store import ENV as EVENTS_DB_ENV
from console import create_app
from console.auth.users import UserStore
from core.redis_conn import get_redis
from tests.console.conftest import PASSWORDS, ROLES
from tests.console.test_browser import browser, serve, sign_in  # noqa: F401 - browser is a fixture
from tests.console.test_browser import pytestmark as BROWSER_MARKS
from tests.publishing import add_examples, git, project, publisher  # noqa: F401 - fixtures
from tests.test_end_to_end import Customer, text_of

pytestmark = pytest.mark.model

NEW_EXAMPLE = "y el envio a tijuana cuanto me sale"
# Out-of-scope questions, reworded just enough to pass the near-duplicate check, taught as an
# FAQ: the check model then answers the held-out out-of-scope examples with it.
OOS_AS_FAQ = [
    "oye como va a estar el clima mañana en la ciudad",
    "oye cuentame un chiste bueno porfa",
    "oye quien crees que va a ganar las elecciones",
    "y que opinas tu del presidente actual",
    "oye venden celulares o telefonos",
    "me ayudas porfa con la tarea de matematicas",
    "oye y cual es la capital de francia",
    "recomiendame porfa una pelicula buena",
    "oye como se hace una pizza casera",
    "cuanto esta costando el dolar hoy dia",
    "oye va a llover hoy en la tarde?",
    "cuanto cuesta un vuelo de avion a cancun",
]


def _finished(read, states, what: str, timeout: float = 400) -> dict:
    """The record `read()` returns once its state is one of `states`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = read()
        if record["state"] in states:
            return record
        time.sleep(0.3)
    raise AssertionError(f"{what} did not finish: {read()}")


def _wait_for(store: PublishStore, job_id: str) -> dict:
    return _finished(lambda: store.job(job_id), FINISHED, f"job {job_id}")


def _wait_for_answer(tries: TryStore, request_id: str) -> dict:
    return _finished(lambda: tries.request(request_id), TRY_FINISHED, f"try-it request {request_id}")


def _loaded(stack) -> str:
    return httpx.get(f"{stack.rasa_url}/status", params={"token": stack.env["RASA_TOKEN"]}).json()["model_file"]


def test_publish_hot_swaps_under_traffic_then_rollback_restores_model_and_data(stack, project, publisher):
    from core.redis_conn import get_redis

    store = PublishStore(get_redis(stack.redis_url))
    answer = load_catalog(project / "data" / "faq").get("shipping_cost").answer("es")
    add_examples(project, "shipping_cost", [NEW_EXAMPLE])

    # Try it first: the edit made the draft stale, so the worker builds it (the one training of
    # this publish) and answers with it; the publish then finds it up to date.
    tries = TryStore(store.redis)
    tried = _wait_for_answer(tries, tries.ask(NEW_EXAMPLE, "lucia")["id"])
    assert tried["state"] == DONE and tried["built_seconds"] > 0, tried
    assert tried["result"]["ranking"][0]["label"] == "faq/shipping_cost"
    assert tried["result"]["unpublished"] == ["data/faq/shipping_cost.yml"]
    draft = project / "var" / "publish" / "build" / f"{training.MODEL_NAME}.tar.gz"
    built = draft.stat().st_mtime_ns

    job, queued = store.enqueue("lucia")
    assert queued
    assert store.enqueue("lucia")[0]["id"] == job["id"], "a second publish waits for the first"

    # Customers keep writing through the emulator and the signed webhook for the whole
    # publish, swap included; each is a new customer, so WhatsApp's pair rate never paces.
    sent: list[tuple[Customer, str]] = []
    stop = threading.Event()

    def traffic():
        n = 0
        # From the training on, so the messages surround the swap, however long the check took.
        while not stop.is_set() and (store.job(job["id"]) or {}).get("stage") in ("validate", "regression check"):
            time.sleep(0.2)
        while not stop.is_set() and n < 400:
            customer = Customer(stack, f"52155{n:08d}")
            stage = (store.job(job["id"]) or {}).get("stage") or "?"
            customer.says("cuanto cuesta el envio??")
            sent.append((customer, stage))
            n += 1
            time.sleep(0.4)

    writer = threading.Thread(target=traffic)
    writer.start()
    try:
        done = _wait_for(store, job["id"])
    finally:
        stop.set()
        writer.join()
    assert done["state"] == PUBLISHED, done
    assert [s["name"] for s in done["stages"]] == ["validate", "regression check", "train", "swap", "first answer"]
    assert all(s["status"] == "done" and s["seconds"] is not None for s in done["stages"])
    assert "swap" in {stage for _, stage in sent}, "no customer wrote during the swap"
    for customer, _ in sent:  # every message answered, with the answer, none lost
        reply, _follow_up = customer.wait_for_replies(2)
        assert text_of(reply) == answer

    assert _loaded(stack) == Path(done["model"]).name
    assert draft.stat().st_mtime_ns == built, "the publish trained nothing: it published the draft"
    record = store.history()[0]
    assert (record["id"], record["user"], record["kind"]) == (done["id"], "lucia", "publish")
    assert "+    - " + NEW_EXAMPLE in record["diff"]
    assert record["files"] == ["data/faq/shipping_cost.yml"]
    assert git(project, "log", "-1", "--format=%an %H %s").split() == [
        "lucia", record["commit"], "Publish", done["id"], "by", "lucia"]
    assert record["measurement"]["in_scope_accuracy"] > 0.5

    initial = store.history()[-1]
    back = _wait_for(store, store.enqueue("lucia", ROLLBACK, initial["id"])[0]["id"])
    assert back["state"] == PUBLISHED, back
    assert _loaded(stack) == Path(initial["model"]).name
    assert store.live()["model"] == initial["model"]
    newest = max((project / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    assert newest == Path(initial["model"]), "a restarted Rasa must load the rolled-back model"
    assert store.history()[0]["kind"] == ROLLBACK
    # data/ is the rolled-back-to publish's again: a restart (the launcher retrains from data/)
    # keeps the rollback, and the FAQ editor shows what customers get.
    assert NEW_EXAMPLE not in (project / "data" / "faq" / "shipping_cost.yml").read_text(encoding="utf-8")
    stamp = project / "models" / f"{training.MODEL_NAME}.fingerprint.json"
    assert training.fingerprint(project) == json.loads(stamp.read_text()), "data/ is not what the initial model was trained from"
    rolled = store.history()[0]
    assert git(project, "log", "-1", "--format=%an %H %s").split() == [
        "lucia", rolled["commit"], "Rollback", "to", "initial", "by", "lucia"]
    assert "-    - " + NEW_EXAMPLE in rolled["diff"] and rolled["files"] == ["data/faq/shipping_cost.yml"]


# -- issue 8's "done when", in the browser ------------------------------------------------------
# Customers ask what the bot was never taught; the lead finds it in the not-understood inbox, adds
# three of the messages as examples, fixes the answer, tries it, publishes, and the customer asking
# again gets the new answer; the lead rolls it back and the bot is as it was. Customers on the
# emulator's chat page and phones, the stack's Rasa writing the event store, the console in
# headless Chromium, this module's worker.

# Meal vouchers: a question the shipped FAQ never mentions, and the trained model does not
# understand (each falls below the threshold).
ASKED = ["reciben vales de despensa", "reciben sodexo", "puedo usar mis vales sodexo"]
FIX = " No aceptamos vales de despensa (Sodexo, Edenred)."
NOT_UNDERSTOOD = "no te entendí"
FAQ = "payment_methods"


@pytest.fixture(scope="module")
def console(stack, project, publisher):  # noqa: F811 - the imported fixtures
    """The console on the publisher's project and the stack's Redis and event store."""
    client = get_redis(stack.redis_url)
    users = UserStore(client)
    for name, password in PASSWORDS.items():
        users.create(name, ROLES[name], password, replace=True)
    app = create_app({
        "REDIS": client, "RASA_URL": stack.rasa_url, "RASA_TOKEN": stack.env["RASA_TOKEN"],
        "SECRET_KEY": "workflow-secret", "PROJECT_DIR": project,
        "EVENTS_DB_URL": stack.env[EVENTS_DB_ENV], "TIMEZONE": "UTC",
    })
    with serve(app) as server:
        yield server


def _chat_page(browser, stack, wa_id: str, name: str):
    page = browser.new_page(viewport={"width": 820, "height": 900})
    page.goto(f"{stack.emulator_url}/")
    page.fill("#phone", wa_id)
    page.fill("#name", name)
    page.click("#identity button[type=submit]")
    page.wait_for_url(f"**/chat/{wa_id}")
    return page


def _ask(page, text: str, expect: str) -> None:
    """The customer types `text`; a bot bubble with `expect` appears after it."""
    before = page.locator(".row.out").count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.wait_for_function(
        "([n, expect]) => [...document.querySelectorAll('.row.out')].slice(n)"
        ".some(r => r.textContent.includes(expect))", arg=[before, expect], timeout=90_000)


def _watch_until_reloaded(page) -> list[tuple[str, list[str]]]:
    """What publish.js shows while the job runs (state, stage statuses), until the page reloads
    when the job ends; the marker set before is gone after the reload."""
    page.evaluate("window.__same_page = true")
    seen = []
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        try:
            if not page.evaluate("window.__same_page === true"):
                page.wait_for_load_state()
                return seen
            seen.append((page.inner_text("#publish-state"), page.locator("#publish-stages .stage-status").all_inner_texts()))
        except PlaywrightError:  # the page navigated during the call: it is reloading
            continue
        page.wait_for_timeout(200)
    raise AssertionError(f"the page never reloaded: {seen[-1:]}")


def _until_listed(page, text: str, timeout: float = 60) -> None:
    """Rasa's event broker writes the store as the turn ends: the page may be read first."""
    deadline = time.monotonic() + timeout
    while not page.locator("tr", has_text=text).count():
        assert time.monotonic() < deadline, f"{text!r} never reached the not-understood inbox"
        time.sleep(0.5)
        page.reload()


@BROWSER_MARKS[0]
@BROWSER_MARKS[1]
def test_a_lead_teaches_the_bot_what_customers_asked_publishes_and_rolls_back(stack, project, publisher, console, browser):  # noqa: F811,E501
    before = history.data_files(project)

    # Customers ask what the bot was never taught: one on the chat page, two from their phones.
    marta = _chat_page(browser, stack, "5215590000001", "Marta")
    _ask(marta, ASKED[0], NOT_UNDERSTOOD)
    for n, text in enumerate(ASKED[1:], start=2):
        customer = Customer(stack, f"52155900000{n:02d}")
        customer.says(text)
        assert NOT_UNDERSTOOD in text_of(customer.wait_for_replies(1)[0])

    # The lead finds them in the not-understood inbox and adds each to the FAQ they meant.
    lead = sign_in(browser, console, "lucia")
    lead.goto(console.url + "/workspace/not-understood")
    for text in ASKED:
        _until_listed(lead, text)
        row = lead.locator("tr", has_text=text).first
        row.locator("select[name=faq]").select_option(FAQ)
        row.locator("button:has-text('Add as example')").click()
        lead.wait_for_selector(f".flash:has-text('Added “{text}” to {FAQ}')")
        assert not lead.locator("tr", has_text=text).count(), "an added message leaves the inbox"

    # ... fixes the answer ...
    lead.goto(f"{console.url}/faqs/{FAQ}")
    field = lead.locator("textarea[name='answer.es']")
    field.fill(field.input_value() + FIX)
    lead.click("#save")
    lead.wait_for_selector(".flash-success")
    saved = (project / "data" / "faq" / f"{FAQ}.yml").read_text(encoding="utf-8")
    assert all(text in saved for text in ASKED) and FIX.strip() in saved

    # ... tries it with the draft model (the publish worker builds it), as the customer will get it ...
    lead.goto(console.url + "/try/")
    lead.fill("#try-question", ASKED[0])
    lead.click("#try-ask")
    lead.wait_for_selector("#try-answer", timeout=300_000)
    assert lead.inner_text("#try-winner .try-faq") == FAQ
    assert FIX.strip() in lead.inner_text("#try-preview .wa-bubble >> nth=0")

    # ... and publishes, watching the stages; the customer asking again gets the new answer.
    lead.goto(console.url + "/publish/")
    assert f"data/faq/{FAQ}.yml" in lead.inner_text("#unpublished")
    lead.click("#publish-button")
    lead.wait_for_selector("#publish-job")
    seen = _watch_until_reloaded(lead)
    assert any(state == "running" and "done" in statuses for state, statuses in seen), seen
    assert lead.inner_text("#publish-state") == "published", lead.inner_text("#publish-job")
    assert lead.locator("#publish-stages .stage-status").all_inner_texts() == ["done"] * 5
    store = PublishStore(get_redis(stack.redis_url))
    published = store.history()[0]
    row = lead.locator(f"tr[data-record='{published['id']}']")
    row.locator("summary").click()
    assert f"+    - {ASKED[1]}" in row.locator("pre.diff").inner_text()
    assert "No unpublished changes" in lead.inner_text("#unpublished")
    _ask(marta, ASKED[0], FIX.strip())

    # The lead rolls it back; an edit saved since, never published, is what the warning names.
    returns = project / "data" / "faq" / "returns.yml"
    returns.write_text(returns.read_text(encoding="utf-8") + "# saved, never published\n", encoding="utf-8")
    lead.reload()
    warnings = []
    lead.once("dialog", lambda dialog: (warnings.append(dialog.message), dialog.accept()))
    lead.click("tr[data-record='initial'] .rollback-form button")
    lead.wait_for_selector("#publish-job h2:has-text('Rollback')")
    assert "1 file has unpublished changes; rolling back discards them" in warnings[0], warnings
    if lead.inner_text("#publish-state") != "published":
        _watch_until_reloaded(lead)
    assert lead.inner_text("#publish-state") == "published", lead.inner_text("#publish-job")
    back = store.history()[0]
    assert (back["kind"], back["target"]) == (ROLLBACK, "initial")
    assert "-# saved, never published" in back["diff"], "what a rollback discards stays in its diff"
    # The bot and the project's data are as they were: a restart would train the same.
    assert history.data_files(project) == before
    ines = Customer(stack, "5215590000009")
    ines.says(ASKED[0])
    assert NOT_UNDERSTOOD in text_of(ines.wait_for_replies(1)[0])


def test_a_publish_that_loses_out_of_scope_rejection_is_refused(stack, project, publisher):
    from core.redis_conn import get_redis

    store = PublishStore(get_redis(stack.redis_url))
    live_before = _loaded(stack)
    history_before = store.history()
    models_before = {p.name: p.stat().st_mtime for p in (project / "models").glob("*.tar.gz")}
    add_examples(project, "promotions", OOS_AS_FAQ)
    job = _wait_for(store, store.enqueue("lucia")[0]["id"])
    assert job["state"] == REFUSED, job
    assert "out-of-scope rejection fell" in job["reason"]
    worse = {w["faq"]: w for w in job["verdict"]["worse"]}
    assert [m for m in worse["out_of_scope"]["misses"] if m[1] == "faq/promotions"], worse
    status = {s["name"]: s["status"] for s in job["stages"]}
    assert (status["regression check"], status["swap"], status["first answer"]) == (REFUSED, "waiting", "waiting")
    assert _loaded(stack) == live_before
    assert store.history() == history_before
    models_after = {p.name: p.stat().st_mtime for p in (project / "models").glob("*.tar.gz")}
    assert models_after == models_before, "a refused model must not become what a restarted Rasa loads"


def test_when_one_rasa_process_refuses_the_model_the_others_are_swapped_back(stack, project, publisher):
    """RASA_URLS with a second process that is down: the first is swapped, then back."""
    from bot.content.publisher import Publisher, Rasa
    from core.redis_conn import free_port, get_redis

    store = PublishStore(get_redis(stack.redis_url))
    live, history_before = store.live(), store.history()
    target = next(r for r in history_before if r["kind"] == "publish")
    down = f"http://127.0.0.1:{free_port()}"
    worker = Publisher(store, Rasa([stack.rasa_url, down], stack.env["RASA_TOKEN"]), root=project)
    # Handed to this worker directly, not queued: the running worker would take it.
    job = worker.handle({"id": "two-rasa", "kind": ROLLBACK, "user": "lucia", "target": target["id"]})
    assert job["state"] == "failed" and f"swap failed on {down}" in job["reason"], job
    assert _loaded(stack) == Path(live["model"]).name
    assert store.live() == live and store.history() == history_before
