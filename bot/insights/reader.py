"""One object for everything the console reads from the event store (console/services.py)."""
from __future__ import annotations

import functools
from datetime import date, datetime, timezone, tzinfo

from core.clock import SYSTEM_CLOCK

from . import health as health_module
from . import not_understood
from .search import EventSearch
from .store import Dismissals, prepare
from .turns import customer_text, read_turns

# How far back the not-understood inbox looks.
INBOX_DAYS = 30
DAY = 86400


class EventInsights:
    def __init__(self, url: str, clock=SYSTEM_CLOCK):
        self.url, self.clock = url, clock

    @functools.cached_property
    def engine(self):
        # On first use, so a console that never opens the workspace never touches the store.
        return prepare(self.url)

    @functools.cached_property
    def dismissals(self) -> Dismissals:
        return Dismissals(self.engine, self.clock)

    @functools.cached_property
    def search(self) -> EventSearch:
        """Customers' past conversations and the desk's search over them."""
        return EventSearch(self.engine)

    def health(self, first: date, last: date, zone: tzinfo = timezone.utc) -> health_module.Health:
        start, end = health_module.day_range(first, last, zone)
        return health_module.health(read_turns(self.engine, start, end), first, last, zone)

    def faq_stats(self, since: datetime | float) -> dict[str, tuple[int, float]]:
        """FAQ key → (answers since `since`, share of them that ended in a handoff)."""
        start = since.timestamp() if isinstance(since, datetime) else float(since)
        return health_module.faq_stats(read_turns(self.engine, start, self.clock.now().timestamp()))

    def not_understood(self, days: int = INBOX_DAYS) -> list[not_understood.Group]:
        now = self.clock.now().timestamp()
        turns = read_turns(self.engine, now - days * DAY, now + 1)
        return not_understood.groups(not_understood.messages(turns, self.dismissals.ids()))

    def customer_text(self, event_id: int) -> str | None:
        return customer_text(self.engine, event_id)

    def dismiss(self, event_ids, by: str) -> int:
        return self.dismissals.dismiss(event_ids, by)
