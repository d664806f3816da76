"""The event stream: references only, odd payloads, login, and a clean end while Redis is down."""
from __future__ import annotations

import json
import threading
import time

from console.desk.events import stream, summarize


def test_event_stream_relays_references_only(redis_client):
    frames = stream(redis_client, max_seconds=3, to_ref=lambda conv: "ref-" + conv)
    assert next(frames).startswith("retry:")
    received = []

    def read():
        for frame in frames:
            received.append(frame)
            if len(received) == 2:
                break

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.1)
    redis_client.publish("handoff:events", json.dumps({"type": "queued", "conv": "521551", "name": "<b>x</b>"}))
    redis_client.publish("handoff:customer-messages", json.dumps({"conversation_id": "521551", "text": "secreto"}))
    reader.join(5)
    assert received[0] == 'event: handoff\ndata: {"conversation_id": "ref-521551", "type": "queued", "agent": null}\n\n'
    assert received[1] == 'event: customer\ndata: {"conversation_id": "ref-521551"}\n\n'
    assert "secreto" not in "".join(received)
    frames.close()


def test_summarize_tolerates_odd_payloads():
    assert summarize("handoff:events", "not json") == ("handoff", {"conversation_id": None, "type": None, "agent": None})
    assert summarize("handoff:customer-messages", "[1]") == ("customer", {"conversation_id": None})


def test_sse_endpoint_needs_login_and_streams(app, client_for):
    assert app.test_client().get("/events").status_code == 302
    response = client_for("ana").get("/events", buffered=False)
    assert response.mimetype == "text/event-stream"
    first = next(iter(response.response))
    assert (first if isinstance(first, str) else first.decode()).startswith("retry:")
    response.close()


def test_event_stream_ends_cleanly_when_redis_is_down():
    """A stream opened while Redis restarts must end as an event stream (the browser then
    reconnects), not fail with a 500 that makes EventSource give up for good."""
    import redis as redis_lib

    class DownPubSub:
        def subscribe(self, *channels):
            raise redis_lib.ConnectionError("Connection refused")

        def get_message(self, timeout=0):
            raise redis_lib.ConnectionError("Connection refused")

        def close(self):
            pass

    class DownRedis:
        def pubsub(self):
            return DownPubSub()

    frames = list(stream(DownRedis(), max_seconds=1))
    assert frames and frames[0].startswith("retry:")
