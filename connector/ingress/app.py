"""The ingress's Sanic app: Meta's webhook at the path the Rasa channel serves it under, so Meta's
configuration does not change whichever process receives it."""
from __future__ import annotations

import itertools

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connector.inbox.metrics import BacklogCollector
from connector.webhook.endpoint import WebhookEndpoint
from connector.webhook.metrics import count_webhooks, sanic_route

# Rasa mounts the channel named "whatsapp" at /webhooks/whatsapp.
PREFIX = "/webhooks/whatsapp"
# Sanic keeps a registry of app names per process; tests may build several apps.
_names = itertools.count()


def create_app(endpoint: WebhookEndpoint) -> Sanic:
    """The conversation workers of the Rasa processes need no word from here: queuing a message
    announces it to all of them (connector/inbox/queue.py, Ingest.enqueue)."""
    app = Sanic(f"wa_ingress_{next(_names)}")
    bp = Blueprint("whatsapp_ingress", url_prefix=PREFIX)

    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    app.add_route(health, "/health", methods=["GET"])
    bp.add_route(health, "/health", methods=["GET"], name="channel_health")
    count_webhooks(bp)
    endpoint.add_routes(bp)
    app.add_route(sanic_route([BacklogCollector(endpoint.ingest, endpoint.clock)]), "/metrics", methods=["GET"])
    app.blueprint(bp)
    return app
