"""The console's /metrics: Prometheus text without a sign-in, the token when set, the handoff
queue from Redis."""
from __future__ import annotations

from core.metrics import TOKEN_ENV
from tests.prometheus import samples, value

from .conftest import CUSTOMER


def test_metrics_answer_the_prometheus_format_without_a_sign_in(app, handoff, clock, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    handoff.request(CUSTOMER, reason="asked for a person", name="Marta")
    clock.advance(seconds=75)
    answer = app.test_client().get("/metrics")
    assert answer.status_code == 200 and answer.content_type.startswith("text/plain; version=0.0.4")
    text = answer.get_data(as_text=True)
    assert samples(text)
    assert value(text, "handoff_waiting") == 1 and value(text, "handoff_oldest_wait_seconds") == 75
    assert CUSTOMER not in text and "Marta" not in text


def test_metrics_want_the_token_when_one_is_set(app, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "console-scrape-2")
    client = app.test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer console-scrape-2"}).status_code == 200
