"""What webhooks brought, counted in the process that received them; and /metrics for the Sanic
servers that receive them (the Rasa channel, connector/channel/input.py, and the ingress). A
server mounts both with two lines: `count_webhooks(bp)` on the blueprint of its /webhook routes,
`app.add_route(sanic_route(collectors), "/metrics", methods=["GET"])`.

core/metrics.py explains the several-process mode and the access token.
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Iterable

from prometheus_client import Counter
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.metrics import scrape
from connector.cloudapi.delivery import STATUS_RANK

WEBHOOKS = Counter("whatsapp_webhooks_total", "Webhook POSTs by the HTTP status answered: 200 stored, "
                   "400 unparseable, 401 unsigned, 403 bad signature, 413 too large, 503 Redis down", ["code"])
MESSAGES = Counter("whatsapp_inbound_messages_total", "Customer messages in webhooks: queued, or a "
                   "duplicate delivery dropped", ["outcome"])
STATUSES = Counter("whatsapp_statuses_total", "Status webhooks of our messages (Meta's status; "
                   "other for one this code does not know)", ["status"])


def count_webhooks(bp: Blueprint) -> None:
    """Count every answer to POST …/webhook on `bp` by its status, refusals made before the
    handler ran (413) included: on the responses, so the routes need no line of their own."""

    @bp.on_response
    async def count_webhook(request: Request, answer: HTTPResponse) -> None:
        if request.method == "POST" and request.path.rstrip("/").endswith("/webhook"):
            WEBHOOKS.labels(str(answer.status)).inc()


def count_status(status: str) -> None:
    STATUSES.labels(status if status in STATUS_RANK else "other").inc()


def sanic_route(collectors: Iterable[object]) -> Callable[[Request], Awaitable[HTTPResponse]]:
    """GET /metrics as a Sanic handler: `app.add_route(sanic_route(collectors), "/metrics")`.
    Off the event loop: the collectors read Redis."""
    collectors = list(collectors)

    async def metrics(request: Request) -> HTTPResponse:
        answer = await asyncio.to_thread(scrape, request.headers.get("authorization"), collectors)
        headers: dict[str, Any] = {k: v for k, v in answer.headers.items() if k != "Content-Type"}
        return response.raw(answer.body, status=answer.status, headers=headers,
                            content_type=answer.headers["Content-Type"])

    return metrics
