"""The console in a real browser (Debian's headless Chromium through Playwright).

Covers what only a browser proves: the pages work with our JS and CSP, live updates arrive over
SSE, template-only mode, and two agents racing for one chat in separate sessions.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from werkzeug.serving import make_server

from core.clock import FixedClock
from bot.handoff import Handoff
from connector.cloudapi.delivery import DeliveryLog, event_key
from connector.policy.consent import MARKETING, OPTED_IN, ConsentRegister
from connector.policy.window import ServiceWindow
from console import create_app
from console.auth.users import UserStore

from .conftest import PASSWORDS, ROLES
from .fake_rasa import FakeRasa

CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[2] / "docs"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium) for the browser tests",
    ),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Live:
    def __init__(self, redis_client):
        self.redis = redis_client
        self.clock = FixedClock(dt.datetime(2026, 1, 5, 16, 0, tzinfo=dt.timezone.utc))
        self.rasa = FakeRasa(clock=self.clock).start()
        self.handoff = Handoff(redis_client, self.clock)
        self.window = ServiceWindow(redis_client, self.clock)
        store = UserStore(redis_client)
        for name, password in PASSWORDS.items():
            store.create(name, ROLES[name], password)
        self.app = create_app({"REDIS": redis_client, "CLOCK": self.clock, "RASA_URL": self.rasa.url,
                               "RASA_TOKEN": self.rasa.token, "SECRET_KEY": "browser-secret",
                               "SSE_MAX_SECONDS": 20})
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def queue_customer(self, conv="5215512341234", name="María López", language="es",
                       text="Hola, quiero cambiar la talla de unos tenis", at_minutes_ago=0):
        when = self.clock.now() - dt.timedelta(minutes=at_minutes_ago)
        self.window.record_inbound(conv, when)
        self.rasa.add(conv, {"event": "user", "text": text})
        self.handoff.request(conv, reason="talk_to_person", language=language, name=name, last_message=text)
        return conv

    def stop(self):
        self.server.shutdown()
        self.rasa.stop()


@pytest.fixture
def live(redis_client):
    server = Live(redis_client)
    yield server
    server.stop()


@contextlib.contextmanager
def serve(app):
    """`app` on a free local port for the browser, in a thread; the server has `.url`."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()


def sign_in(browser, live, name):
    context = browser.new_context(viewport={"width": 1360, "height": 860})
    page = context.new_page()
    page.goto(live.url + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Chats')")
    return page


def claim_first(page):
    page.click("#waiting-table .claim-form button")
    page.wait_for_url("**/c/*")


def test_login_shows_the_queue_and_wrong_password_fails(browser, live):
    page = browser.new_page()
    page.goto(live.url + "/")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", "nope-nope-nope")
    page.click("button[type=submit]")
    assert "Wrong user name or password" in page.inner_text(".flash-error")
    page.close()
    page = sign_in(browser, live, "ana")
    assert "No one is waiting" in page.inner_text("#queue-tables")
    page.context.close()


def test_new_chat_appears_live_and_claim_opens_it(browser, live):
    page = sign_in(browser, live, "ana")
    page.wait_for_selector("#live-status.on")
    live.queue_customer(name='<img src=x onerror="window.__xss=1">Rosa')
    page.wait_for_selector("#waiting-table tr[data-conversation]", timeout=10_000)
    assert 'onerror="window.__xss=1">Rosa' in page.inner_text("#waiting-table")
    claim_first(page)
    assert "Hola, quiero cambiar la talla" in page.inner_text("#history")
    assert page.evaluate("window.__xss") is None
    assert live.handoff.state("5215512341234").agent == "ana"
    page.context.close()


SPY = """
window.__notes = []; window.__sounds = 0;
class FakeNotification { constructor(title, options) { window.__notes.push([title, options.body]); } close() {} }
FakeNotification.permission = "granted";
FakeNotification.requestPermission = async () => "granted";
window.Notification = FakeNotification;
const RealAudio = window.AudioContext;
window.AudioContext = class extends RealAudio {
  createBufferSource() { window.__sounds += 1; return super.createBufferSource(); }
};
"""


def test_new_chat_rings_and_notifies(browser, live):
    page = sign_in(browser, live, "ana")
    page.add_init_script(SPY)
    page.reload()
    page.wait_for_selector("#live-status.on")
    page.mouse.click(5, 300)  # browsers only allow sound after a user gesture
    live.queue_customer(name="Rosa <b>Díaz</b>")
    deadline = time.monotonic() + 10  # (wait_for_function would need 'unsafe-eval', which our CSP forbids)
    while not page.evaluate("window.__notes.length") and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert page.evaluate("window.__notes") == [["New chat waiting", "Rosa <b>Díaz</b> needs an agent"]]
    assert page.evaluate("window.__sounds") == 1
    page.context.close()


def test_reply_inside_the_window(browser, live):
    # 3 h 11 m 30 s left (minus the 60 s margin), so the page's ticking countdown still reads
    # "3h 11m" however many seconds this loaded machine takes to show it.
    conv = live.queue_customer(at_minutes_ago=20 * 60 + 47.5)
    page = sign_in(browser, live, "ana")
    claim_first(page)
    assert page.inner_text("#window-countdown").startswith("Window closes in 3h 11m")
    page.select_option("#canned-select", label="Revisando")
    assert "estoy revisando tu caso" in page.input_value("#reply-text")
    page.fill("#reply-text", "Claro, <script>window.__xss=2</script> te ayudo con el cambio.")
    page.click("#reply-send")
    page.wait_for_selector(".msg-agent")
    assert "te ayudo con el cambio" in page.inner_text(".msg-agent")
    assert page.evaluate("window.__xss") is None
    [post] = live.rasa.posts(conv)
    assert post.body[0]["metadata"] == {"agent": "ana"}
    page.context.close()


def test_only_templates_outside_the_window(browser, live):
    conv = live.queue_customer(at_minutes_ago=25 * 60)
    ConsentRegister(live.redis, live.clock).record(conv, MARKETING, OPTED_IN, "web_form")
    page = sign_in(browser, live, "ana")
    claim_first(page)
    assert "24-hour window closed" in page.inner_text("#window-bar")
    assert page.is_disabled("#reply-text") and page.is_disabled("#reply-send")
    page.select_option("#template-select", value="reengage_es:es_MX")
    page.fill("input[name=p1]", "María")
    assert page.inner_text("#template-preview").startswith("Hola María, seguimos aquí")
    assert page.is_hidden("label.param[data-index='2']")
    page.click("#template-send")
    page.wait_for_selector(".flash-success")
    [post] = live.rasa.posts(conv)
    assert post.body[0]["data"]["custom"]["template"]["name"] == "reengage_es"
    # A forged free-form post from this page is still refused by the server.
    status = page.evaluate("""async () => {
        const r = await fetch(location.pathname + '/reply', {method: 'POST',
          headers: {'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content,
                    'Accept': 'application/json'},
          body: new URLSearchParams({text: 'forged'})});
        return r.status; }""")
    assert status == 409
    assert len(live.rasa.posts(conv)) == 1
    page.context.close()


def test_countdown_switches_to_templates_when_the_window_closes(browser, live):
    # Sendable for 6 more seconds (the window keeps a 60 s safety margin before closes_at).
    live.queue_customer(at_minutes_ago=24 * 60 - 66 / 60)
    page = sign_in(browser, live, "ana")
    claim_first(page)
    assert not page.is_disabled("#reply-text")
    page.wait_for_selector("#reply-text:disabled", timeout=15_000)
    assert "24-hour window closed" in page.inner_text("#window-bar")
    assert page.get_attribute("#template-box", "open") is not None
    page.context.close()


def test_customer_message_reopens_the_window_live(browser, live):
    conv = live.queue_customer(at_minutes_ago=30 * 60)
    page = sign_in(browser, live, "ana")
    claim_first(page)
    assert page.is_disabled("#reply-text")
    page.wait_for_selector("#live-status.on")
    live.window.record_inbound(conv, live.clock.now())
    live.rasa.add(conv, {"event": "user", "text": "Sigo aquí, ¿me ayudas?"})
    live.redis.publish("handoff:customer-messages", '{"conversation_id": "%s"}' % conv)
    page.wait_for_selector("text=Sigo aquí, ¿me ayudas?")
    page.wait_for_selector("#reply-text:enabled")
    # 24 h minus the 60 s safety margin, minus however long this slow machine took since.
    assert page.inner_text("#window-countdown").startswith("Window closes in 23h 5")
    page.context.close()


def test_ticks_change_live_and_resolve_warns_about_an_unanswered_message(browser, live):
    conv = live.queue_customer()
    page = sign_in(browser, live, "ana")
    claim_first(page)
    page.wait_for_selector("#live-status.on")
    # An agent reply as Rasa logs it, which the connector sent and linked (WhatsAppOutput).
    sent_at = live.clock.now().timestamp()
    live.rasa.add(conv, {"event": "bot", "text": "Hola María, lo reviso", "metadata": {"agent": "ana"},
                         "timestamp": sent_at})
    delivery = DeliveryLog(live.redis, live.clock)
    delivery.record_sent("wamid.B1", conv, {"to": conv, "type": "text"}, agent="ana")
    delivery.link(conv, event_key(sent_at), ["wamid.B1"])
    for status, ticks in (("delivered", "ticks-delivered"), ("read", "ticks-read")):
        # Meta's status webhook, as the connector's intake applies it: the page follows live.
        delivery.record_status({"id": "wamid.B1", "status": status, "timestamp": int(sent_at)})
        page.wait_for_selector(f".msg-agent .{ticks}")

    # The customer writes again; resolving now asks first, showing what is unanswered.
    live.rasa.add(conv, {"event": "user", "text": "¿Y cuánto tarda el envío?"})
    live.redis.publish("handoff:customer-messages", '{"conversation_id": "%s"}' % conv)
    page.wait_for_selector("text=¿Y cuánto tarda el envío?")
    page.click("#resolve-button")
    page.wait_for_selector("#resolve-warning:visible")
    assert page.inner_text("#resolve-warning-text") == "¿Y cuánto tarda el envío?"
    assert live.handoff.state(conv).state == "assigned"
    page.click("#resolve-confirm")
    page.wait_for_selector(".flash-success")
    assert "Resolved" in page.inner_text(".flash-success")
    assert live.handoff.state(conv).state == "bot"
    assert live.rasa.posts(conv)[0].body[0] == {"event": "resume"}
    page.context.close()


def test_two_agents_race_for_one_chat(browser, live):
    ana, luis = sign_in(browser, live, "ana"), sign_in(browser, live, "luis")
    conv = live.queue_customer()
    for page in (ana, luis):
        page.reload()
        page.wait_for_selector("#waiting-table .claim-form button")
    # Fire both clicks before either response can arrive.
    for page in (ana, luis):
        page.evaluate("document.querySelector('#waiting-table .claim-form button').click()")
    winner = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and winner is None:
        winner = live.handoff.state(conv).agent
        time.sleep(0.05)
    assert winner in ("ana", "luis")
    won, lost = (ana, luis) if winner == "ana" else (luis, ana)
    won.wait_for_url("**/c/*")
    lost.wait_for_selector(f"#toast:has-text('Already taken by {winner}')")
    assert "/c/" not in lost.url
    ana.context.close()
    luis.context.close()


def test_screenshot_of_the_conversation_view(browser, live, tmp_path):
    conv = "5215587654321"
    script = [
        (9, {"event": "user", "text": "Hola, buenas tardes"}),
        (9, {"event": "bot", "text": "¡Hola! Soy el asistente de Calzado y Moda Alba. ¿En qué te ayudo?",
             "data": {"buttons": [{"title": "Horarios", "payload": "/faq_pick{\"faq_key\":\"hours\"}"},
                                  {"title": "Cambios y devoluciones", "payload": "/faq_pick{\"faq_key\":\"returns\"}"},
                                  {"title": "Hablar con alguien", "payload": "/human_handoff"}]}}),
        (7, {"event": "user", "text": "/human_handoff"}),
        (7, {"event": "bot", "text": "Te comunico con una persona de nuestro equipo. Tu lugar en la fila: 1."}),
        (7, {"event": "pause"}),
        (5, {"event": "user", "text": "Compré unos tenis talla 25 en la sucursal Coyoacán y me quedaron chicos. ¿Los puedo cambiar por 26?"}),
    ]
    now = live.clock.now().timestamp()
    live.window.record_inbound(conv, live.clock.now() - dt.timedelta(minutes=5))
    live.rasa.add(conv, *({**event, "timestamp": now - minutes * 60} for minutes, event in script))
    live.handoff.request(conv, reason="talk_to_person", language="es", name="María López",
                         last_message="¿Los puedo cambiar por 26?")
    live.handoff.set_online("luis", True)
    # The chat list beside it: another chat of Ana's, with an unread message, and one waiting.
    live.queue_customer(conv="5215511112222", name="Beto Ruiz", text="¿Tienen sandalias en 27?",
                        at_minutes_ago=40)
    assert live.handoff.claim("5215511112222", "ana")
    live.clock.advance(minutes=1)
    live.handoff.update_last_message("5215511112222", "¿Y en color café?")
    live.queue_customer(conv="5215533334444", name="Rosa Díaz", text="Hola, ¿hacen envíos a Puebla?")
    page = sign_in(browser, live, "ana")
    page.click("#online-toggle + .slider")
    claim_first(page)
    labels = live.app.extensions["console"].labels
    labels.put(live.handoff.state(conv), labels.create("Cambio de talla", "teal").id)
    page.reload()
    page.fill("textarea[name=text]:not(#reply-text)", "Cliente frecuente; ofrecer envío gratis si no hay talla en tienda.")
    page.click("text=Save note")
    page.wait_for_selector(".notes .note-text")
    live.clock.advance(minutes=2)
    page.fill("#reply-text", "¡Hola María! Soy Ana. Claro que sí: tienes 30 días con tu ticket. ¿Me compartes tu número de pedido?")
    page.click("#reply-send")
    page.wait_for_selector(".msg-agent")
    page.wait_for_selector("#live-status.on")
    # The reply as the connector sent it and Meta reported it read (the ticks on its bubble).
    reply = [e for e in live.rasa.events[conv] if e.get("event") == "bot"][-1]
    delivery = DeliveryLog(live.redis, live.clock)
    delivery.record_sent("wamid.SHOT1", conv, {"to": conv, "type": "text"}, agent="ana")
    delivery.link(conv, event_key(reply["timestamp"]), ["wamid.SHOT1"])
    delivery.record_status({"id": "wamid.SHOT1", "status": "read", "timestamp": int(reply["timestamp"])})
    live.clock.advance(minutes=1)
    live.rasa.add(conv, {"event": "user", "text": "Sí, es el pedido 10482"})
    live.redis.publish("handoff:customer-messages", '{"conversation_id": "%s"}' % conv)
    page.wait_for_selector("text=Sí, es el pedido 10482", timeout=10_000)
    page.fill("#reply-text", "Gracias, ya lo encontré. ")
    page.select_option("#canned-select", label="Cambio de talla")
    # README's pictures are refreshed only on request, so a test run never edits tracked files.
    folder = DOCS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / "desk.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("document.getElementById('history').scrollTop = 1e6")
    page.screenshot(path=str(folder / "desk-phone.png"))
    page.context.close()


def test_live_queue_recovers_after_the_event_stream_fails(browser, live):
    """EventSource gives up for good after an HTTP error (e.g. a 500 while Redis restarts); the
    page must open a new stream itself, catch up, and keep receiving new chats."""
    context = browser.new_context(viewport={"width": 1360, "height": 860})
    failures = []

    def flaky(route):
        if len(failures) < 2:
            failures.append(route.request.url)
            route.fulfill(status=500, content_type="text/html", body="Internal Server Error")
        else:
            route.continue_()

    context.route("**/events", flaky)
    page = context.new_page()
    page.goto(live.url + "/login")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORDS["ana"])
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Chats')")
    live.queue_customer(name="Rosa")  # published while the stream is down: found by the catch-up
    page.wait_for_selector("#live-status.on", timeout=20_000)
    assert len(failures) == 2
    page.wait_for_selector("#waiting-table tr[data-conversation]", timeout=10_000)
    live.queue_customer(conv="5215599990000", name="Beto")
    page.wait_for_selector("#waiting-table td:has-text('Beto')", timeout=10_000)
    context.close()


def test_a_page_whose_sign_in_moved_reloads_into_the_login_page(browser, live):
    """A script's request gets a 401 once the sign-in is ended for coming from another client;
    the page reloads into the login page, which says why, instead of failing silently."""
    page = sign_in(browser, live, "ana")
    [key] = live.redis.keys("console:signin:*")
    live.redis.hset(key, "ip", "198.51.100.20")  # as if ana had signed in from another network
    # Any script request trips the check: the online switch (a fetch) if the test gets there
    # first, else the page's own heartbeat, which fires as soon as the page is up.
    try:
        page.click("label.switch", timeout=2_000)
    except PlaywrightTimeoutError:
        pass  # already on its way to the login page
    page.wait_for_selector("h1:has-text('Sign in')", timeout=10_000)
    assert "used from another network or browser" in page.inner_text(".flash-warning")
    assert not live.redis.exists(key)
    page.context.close()
