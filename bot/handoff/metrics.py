"""The handoff queue's state, read from Redis at each scrape (core/metrics.py says why not per
process). Waits are measured from when a chat last entered the queue (enqueued_at): a chat an
absent agent gave back waits again from then, as the customer sees it."""
from __future__ import annotations

from typing import Iterable

from prometheus_client.core import GaugeMetricFamily

from bot.handoff import Handoff
from core.metrics import RedisCollector


class HandoffCollector(RedisCollector):
    def __init__(self, handoff: Handoff) -> None:
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
