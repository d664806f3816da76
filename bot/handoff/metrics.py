"""The handoff's metrics: the waits of chats a person took, counted by the process that gave
them out (the console), and the queue's state, read from Redis at each scrape (core/metrics.py
says why not per process). Waits are measured from when a chat last entered the queue
(enqueued_at): a chat an absent agent gave back waits again from then, as the customer sees it."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Iterable

import redis
from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily

from core.metrics import RedisCollector

if TYPE_CHECKING:  # bot/handoff/__init__.py imports this module
    from bot.handoff import Handoff

logger = logging.getLogger(__name__)

WAITED = Histogram("handoff_wait_seconds", "How long a chat waited in the queue before a person took it",
                   buckets=(10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400))


def served(handoff: "Handoff", conv: str) -> None:
    """A person just took `conv` from the queue (a claim or a lead's assignment). Never raises:
    the chat is taken whatever becomes of its measure."""
    try:
        enqueued, assigned = handoff.redis.hmget(handoff.keys.conv(conv), "enqueued_at", "assigned_at")
    except redis.RedisError as exc:
        logger.warning("metrics: the wait of a chat taken was not measured, Redis unavailable: %s", exc)
        return
    if enqueued and assigned:  # written by the claim; gone only if the chat moved on meanwhile
        WAITED.observe(max(0.0, float(assigned) - float(enqueued)))


class HandoffCollector(RedisCollector):
    def __init__(self, handoff: "Handoff") -> None:
        self.handoff = handoff

    def read(self) -> Iterable[GaugeMetricFamily]:
        now = self.handoff.clock.now()
        chats = self.handoff.waiting()
        waits = [(now - chat.enqueued_at).total_seconds() for chat in chats if chat.enqueued_at]
        return [
            GaugeMetricFamily("handoff_waiting", "Chats waiting for a person", value=len(chats)),
            GaugeMetricFamily("handoff_oldest_wait_seconds", "Seconds the longest-waiting chat has waited "
                              "for a person (0 when none waits)", value=max([0.0, *waits])),
            GaugeMetricFamily("handoff_assigned", "Chats a person holds",
                              value=self.handoff.redis.zcard(self.handoff.keys.assigned)),
            GaugeMetricFamily("handoff_agents_online", "Agents online and seen within the agent timeout",
                              value=len(self.handoff.online_agents())),
        ]
