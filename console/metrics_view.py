"""GET /metrics for Prometheus: no sign-in (a scraper has no session), the METRICS_TOKEN bearer
when set (core/metrics.py: the several-process mode, access, no customer data). The console
adds the handoff queue, which it serves; the inbox's backlog is the connector's to report."""
from __future__ import annotations

from flask import Blueprint, Response, request

from bot.handoff.metrics import HandoffCollector
from core.metrics import scrape

from . import services

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    answer = scrape(request.headers.get("Authorization"), [HandoffCollector(services.current().desk.handoff)])
    return Response(answer.body, status=answer.status, headers=dict(answer.headers))
