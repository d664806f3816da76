"""Server-sent events: relays handoff changes, new customer messages and delivery statuses
(ticks) to open console pages.

Only opaque conversation references (console/refs.py) and event types go to the browser; the
page then fetches what it needs through the normal authenticated views, so the stream never
carries customer text or phone numbers.
"""
from __future__ import annotations

import json
import time

import redis

from flask import Blueprint, Response, current_app
from flask_login import login_required

from core.channels import CUSTOMER_MESSAGES, DELIVERY_STATUSES, HANDOFF_EVENTS

from .. import refs, services

bp = Blueprint("events", __name__)

KEEPALIVE_SECONDS = 15


def _conversation_id(payload) -> str | None:
    if isinstance(payload, dict):
        for key in ("conv", "conversation_id", "conversation", "sender_id"):
            if payload.get(key):
                return str(payload[key])
    return None


def summarize(channel: str, data: str, to_ref=lambda conv: conv) -> tuple[str, dict]:
    try:
        payload = json.loads(data)
    except (TypeError, ValueError):
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    conv = _conversation_id(payload)
    ref = to_ref(conv) if conv else None
    if channel == CUSTOMER_MESSAGES:
        return "customer", {"conversation_id": ref}
    if channel == DELIVERY_STATUSES:
        return "delivery", {"conversation_id": ref}
    return "handoff", {"conversation_id": ref, "type": payload.get("type"), "agent": payload.get("agent")}


def _frame(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def stream(redis_client, max_seconds: float, to_ref=lambda conv: conv):
    pubsub = redis_client.pubsub()
    greeted = False
    try:
        # Inside the try: a stream opened while Redis is restarting must still end as a stream.
        # Raised before the first frame it becomes a 500, and EventSource never retries those.
        channels = (HANDOFF_EVENTS, CUSTOMER_MESSAGES, DELIVERY_STATUSES)
        pubsub.subscribe(*channels)
        # Wait for every confirmation: from the first frame on, no published event is missed.
        confirmed, deadline = 0, time.monotonic() + 5
        while confirmed < len(channels) and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.5)
            if message and message.get("type") == "subscribe":
                confirmed += 1
        pubsub.ignore_subscribe_messages = True
        # Reconnect quickly; the stream ends after max_seconds so threads are recycled.
        greeted = True
        yield "retry: 3000\n\n"
        started = last_sent = time.monotonic()
        while time.monotonic() - started < max_seconds:
            message = pubsub.get_message(timeout=1.0)
            if message and message.get("type") == "message":
                event, data = summarize(message["channel"], message["data"], to_ref)
                yield _frame(event, data)
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                # A comment line keeps proxies from closing an idle stream and detects gone clients.
                yield ": keepalive\n\n"
                last_sent = time.monotonic()
    except (redis.ConnectionError, redis.TimeoutError):
        # Redis restarting: end this stream; the browser reconnects after `retry`.
        if not greeted:
            yield "retry: 3000\n\n"
        return
    finally:
        try:
            pubsub.close()
        except (redis.ConnectionError, redis.TimeoutError):
            pass


@bp.route("/events")
@login_required
def events():
    body = stream(services.current().redis, float(current_app.config["SSE_MAX_SECONDS"]),
                  refs.current().compute)
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
