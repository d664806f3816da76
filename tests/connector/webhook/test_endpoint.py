"""connector/webhook/endpoint.py: what a webhook is answered, on a real Redis and on none."""
import copy

import redis

from connector.inbox.queue import inbox_key
from connector.webhook import endpoint as endpoint_module
from connector.webhook.endpoint import INLINE_BODY_BYTES, WebhookEndpoint
from core.redis_conn import free_port
from tests.connector.conftest import signed, text_webhook


class CountingPool(redis.ConnectionPool):
    """A pool that counts the connections it is asked for: each is a try at reaching Redis."""

    asked = 0

    def get_connection(self, *args, **kwargs):
        CountingPool.asked += 1
        return super().get_connection(*args, **kwargs)


def test_a_stored_webhook_is_answered_200(config, redis_client):
    endpoint = WebhookEndpoint(config, redis_client)
    body, headers = signed(text_webhook("34600", "wamid.e1", "hola"))
    assert endpoint.handle(body, headers["X-Hub-Signature-256"]) == (200, "ok", 1)
    assert redis_client.llen(inbox_key("34600")) == 1


def test_a_big_batch_is_stored_whole(config, redis_client):
    """Bodies over INLINE_BODY_BYTES take the thread path in the route; the answer is the same."""
    payload = text_webhook("34600", "wamid.big0", "hola")
    value = payload["entry"][0]["changes"][0]["value"]
    first = value["messages"][0]
    value["messages"] = [dict(copy.deepcopy(first), id=f"wamid.big{n}", text={"body": "x" * 500})
                         for n in range(200)]
    body, headers = signed(payload)
    assert len(body) > INLINE_BODY_BYTES
    assert WebhookEndpoint(config, redis_client).handle(body, headers["X-Hub-Signature-256"]) == (200, "ok", 200)


def test_after_a_redis_error_webhooks_are_refused_without_asking_redis_for_a_while(config, monkeypatch):
    dead = redis.Redis(connection_pool=CountingPool(port=free_port(), socket_connect_timeout=1,
                                                    decode_responses=True))
    endpoint = WebhookEndpoint(config, dead)
    now = [1000.0]
    monkeypatch.setattr(endpoint_module.time, "monotonic", lambda: now[0])
    body, headers = signed(text_webhook("34600", "wamid.e2", "hola"))

    assert endpoint.handle(body, headers["X-Hub-Signature-256"]).status == 503
    tries = CountingPool.asked
    assert tries >= 1
    now[0] += endpoint_module.REDIS_RETRY_SECONDS / 2
    assert endpoint.handle(body, headers["X-Hub-Signature-256"]) == (503, "temporarily unavailable", 0)
    assert CountingPool.asked == tries  # refused at once: Meta retries it
    # A forgery is still a forgery while Redis is away.
    assert endpoint.handle(body, "sha256=" + "0" * 64).status == 403
    now[0] += endpoint_module.REDIS_RETRY_SECONDS
    assert endpoint.handle(body, headers["X-Hub-Signature-256"]).status == 503
    assert CountingPool.asked > tries  # asked again once the period is over
