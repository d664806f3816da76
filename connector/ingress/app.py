"""The ingress's Sanic app: Meta's webhook at the path the Rasa channel serves it under, so Meta's
configuration does not change whichever process receives it."""
from __future__ import annotations

import itertools

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connector.webhook.endpoint import OnQueued, WebhookEndpoint

# Rasa mounts the channel named "whatsapp" at /webhooks/whatsapp.
PREFIX = "/webhooks/whatsapp"
# Sanic keeps a registry of app names per process; tests may build several apps.
_names = itertools.count()


def create_app(endpoint: WebhookEndpoint, on_queued: OnQueued | None = None) -> Sanic:
    """`on_queued(count)` runs after a webhook stored `count` new messages: where the
    conversation workers of other processes are to be told (they otherwise find the work by
    polling, connector/inbox/pool.py)."""
    app = Sanic(f"wa_ingress_{next(_names)}")
    bp = Blueprint("whatsapp_ingress", url_prefix=PREFIX)

    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    app.add_route(health, "/health", methods=["GET"])
    bp.add_route(health, "/health", methods=["GET"], name="channel_health")
    endpoint.add_routes(bp, on_queued)
    app.blueprint(bp)
    return app
