"""The inbox's backlog, read from Redis at each scrape (core/metrics.py says why not per process).

Turn latencies and dead letters are counted where they happen, in connector/inbox/pool.py.
"""
from __future__ import annotations

from typing import Iterable

from prometheus_client.core import GaugeMetricFamily

from core.clock import SYSTEM_CLOCK, Clock
from core.metrics import RedisCollector
from connector.inbox.queue import Ingest


class BacklogCollector(RedisCollector):
    def __init__(self, ingest: Ingest, clock: Clock = SYSTEM_CLOCK) -> None:
        self.ingest = ingest
        self.clock = clock

    def read(self) -> Iterable[GaugeMetricFamily]:
        backlog = self.ingest.backlog()
        age = 0.0 if backlog.oldest_at is None else max(0.0, self.clock.now().timestamp() - backlog.oldest_at)
        return [
            GaugeMetricFamily("whatsapp_inbox_messages", "Customer messages queued and not yet answered "
                              "(those being answered included)", value=backlog.messages),
            GaugeMetricFamily("whatsapp_inbox_conversations_ready", "Conversations waiting for a free worker",
                              value=backlog.ready),
            GaugeMetricFamily("whatsapp_inbox_oldest_age_seconds", "Seconds the oldest unanswered message "
                              "has been queued (0 when none)", value=age),
        ]
