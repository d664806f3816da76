"""The alerts API over HTTP: bearer keys, the documented answers, consent refusals, idempotency."""
import pytest

from connector.cloudapi.delivery import DeliveryLog
from connector.outreach.store import DUE_KEY, SendStore
from connector.policy.consent import ConsentRegister
from connector.policy.templates import TemplateRegister
from console import create_app
from console.api.keys import ApiKeys
from tests.console.fake_rasa import FakeRasa

OPTED_IN, NOT_OPTED_IN = "5215512349001", "5215512349002"
ORDER = ["A-1042", "María", "A-1042", "1250.00 MXN"]


@pytest.fixture(scope="module")
def rasa():
    fake = FakeRasa().start()
    yield fake
    fake.stop()


@pytest.fixture
def api(redis_client, clock, rasa):
    """A test client of the console for programs: no users, no session, only API keys."""
    app = create_app({"REDIS": redis_client, "CLOCK": clock, "RASA_URL": rasa.url, "RASA_TOKEN": rasa.token,
                      "SECRET_KEY": "test-secret", "TESTING": True})
    TemplateRegister(redis_client, clock).load_file()
    ConsentRegister(redis_client, clock).record(OPTED_IN, "transactional", "opted_in", "web_form")
    keys = ApiKeys(redis_client, clock)
    client = app.test_client()
    client.keys = {"shop": keys.create("shop"), "crm": keys.create("crm")}

    def call(method, path, json=None, who="shop", headers=None, **kwargs):
        headers = headers or ({"Authorization": f"Bearer {client.keys[who]}"} if who else {})
        return client.open(f"/api/v1{path}", method=method, json=json, headers=headers, **kwargs)
    call.keys = keys
    return call


def order(key="order-A-1042", *contacts, **extra):
    return {"template": "order_confirmation", "idempotency_key": key,
            "contacts": [{"to": to, "params": ORDER} for to in (contacts or (OPTED_IN,))], **extra}


def test_an_order_confirmation_is_scheduled_and_a_contact_without_opt_in_is_refused_with_the_reason(api):
    response = api("POST", "/messages", order("k1", OPTED_IN, NOT_OPTED_IN))
    assert response.status_code == 201
    scheduled, refused = response.json["messages"]
    assert (scheduled["to"], scheduled["state"], scheduled["reason"]) == (OPTED_IN, "scheduled", None)
    assert refused["state"] == "refused" and refused["reason"] == "transactional: no opt-in recorded for this contact"
    status = api("GET", f"/messages/{refused['id']}")
    assert status.status_code == 200 and status.json["state"] == "refused"


def test_the_same_key_repeats_the_answer_and_a_different_request_with_it_is_a_409(api):
    first = api("POST", "/messages", order("k2"))
    again = api("POST", "/messages", order("k2"))
    assert again.status_code == 200 and again.json == first.json
    conflict = api("POST", "/messages", order("k2", OPTED_IN, NOT_OPTED_IN))
    assert conflict.status_code == 409 and "different request" in conflict.json["error"]
    # Another client's "k2" is its own key.
    assert api("POST", "/messages", order("k2"), who="crm").status_code == 201


def test_the_status_shows_the_wamid_and_delivery_times_and_only_to_its_client(api, redis_client, clock):
    (send,) = api("POST", "/messages", order("k3")).json["messages"]
    SendStore(redis_client, clock).set_fields(send["id"], state="sent", wamid="wamid.X1")
    DeliveryLog(redis_client, clock).record_status(
        {"id": "wamid.X1", "status": "delivered", "timestamp": int(clock.now().timestamp())})
    status = api("GET", f"/messages/{send['id']}").json
    assert (status["state"], status["wamid"], status["delivery"]["status"]) == ("sent", "wamid.X1", "delivered")
    assert status["delivery"]["times"]["delivered"] == clock.now().isoformat()
    assert api("GET", f"/messages/{send['id']}", who="crm").status_code == 403
    assert api("GET", "/messages/msg_nope").status_code == 404


BAD = [
    ("not json", 400, "JSON object"),
    ({"template": 5, "contacts": "x"}, 400, "shaped"),
    (order("k4", "12"), 422, "not a WhatsApp number"),
    (order("k5", send_at="tomorrow"), 400, "shaped"),
    (order("k6", send_at="2026-01-06T09:00:00"), 422, "cannot be sent"),
    ({**order("k7"), "contacts": [{"to": OPTED_IN, "params": ["only one"]}]}, 422, "cannot be sent"),
    ({**order("k8"), "template": "no_such"}, 422, "cannot be sent"),
    ({**order("k9"), "idempotency_key": None}, 400, "shaped"),
    ({**order("k10"), "contacts": [{"to": OPTED_IN, "params": [True]}]}, 400, "shaped"),
]


def test_bad_requests_get_a_clear_status_and_reason_never_a_500(api, redis_client):
    for body, status, words in BAD:
        if isinstance(body, str):
            response = api("POST", "/messages", data=body, content_type="text/plain")
        else:
            response = api("POST", "/messages", body)
        assert (response.status_code, response.is_json) == (status, True), body
        assert words in response.json["error"] + " ".join(response.json.get("problems", [])), body
    assert redis_client.zcard(DUE_KEY) == 0


def test_no_key_a_wrong_key_and_a_revoked_key_are_401(api):
    assert api("POST", "/messages", order("k11"), who=None).status_code == 401
    assert api("GET", "/messages/x", headers={"Authorization": "Bearer alba_wrong"}, who=None).status_code == 401
    api.keys.revoke("crm")
    response = api("POST", "/messages", order("k12"), who="crm")
    assert response.status_code == 401 and "revoked" in response.json["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_api_needs_no_session_or_csrf_token_and_sets_no_cookie(api):
    response = api("POST", "/messages", order("k13"))
    assert response.status_code == 201 and "Set-Cookie" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # the console's protections stay
