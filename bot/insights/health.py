"""FAQ health per day, and per FAQ, from the customer turns in the event store."""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo

import numpy as np

from .turns import Turn, normalized

TOP = 10


@dataclass
class Day:
    day: date
    messages: int = 0          # customer messages the bot handled
    faq_answers: int = 0
    fallbacks: int = 0
    handoffs: int = 0
    response_seconds: list[float] = field(default_factory=list, repr=False)

    @property
    def fallback_rate(self) -> float | None:
        return self.fallbacks / self.messages if self.messages else None

    @property
    def handoff_rate(self) -> float | None:
        return self.handoffs / self.messages if self.messages else None

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(self.response_seconds) if self.response_seconds else None

    @property
    def p90_seconds(self) -> float | None:
        return float(np.percentile(self.response_seconds, 90)) if self.response_seconds else None


@dataclass
class Health:
    days: list[Day]
    top_faqs: list[tuple[str, int]]
    top_not_understood: list[tuple[str, int]]

    @property
    def total(self) -> Day:
        whole = Day(self.days[0].day)
        for day in self.days:
            whole.messages += day.messages
            whole.faq_answers += day.faq_answers
            whole.fallbacks += day.fallbacks
            whole.handoffs += day.handoffs
            whole.response_seconds += day.response_seconds
        return whole


def day_range(first: date, last: date, zone: tzinfo = timezone.utc) -> tuple[float, float]:
    """[start, end) in epoch seconds covering the days first..last in `zone`."""
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    return start.timestamp(), end.timestamp()


def health(turns: list[Turn], first: date, last: date, zone: tzinfo = timezone.utc) -> Health:
    span = (first + timedelta(days=i) for i in range((last - first).days + 1))
    days = {d: Day(d) for d in span}
    faqs: Counter = Counter()
    missed: Counter = Counter()
    for turn in turns:
        day = days.get(datetime.fromtimestamp(turn.at, zone).date())
        if day is None or not turn.handled:
            continue
        day.messages += 1
        day.handoffs += turn.handoff
        if turn.response_seconds is not None:
            day.response_seconds.append(turn.response_seconds)
        if turn.answered_faq:
            day.faq_answers += 1
            faqs[turn.answered_faq] += 1
        if turn.fallback:
            day.fallbacks += 1
            if turn.typed:
                missed[normalized(turn.text)] += 1
    return Health(list(days.values()), faqs.most_common(TOP), missed.most_common(TOP))


def faq_stats(turns: list[Turn]) -> dict[str, tuple[int, float]]:
    """FAQ key → (answers given, share of them that ended in a handoff)."""
    hits: Counter = Counter()
    handed: Counter = Counter()
    for turn in turns:
        if turn.answered_faq:
            hits[turn.answered_faq] += 1
            handed[turn.answered_faq] += turn.ended_in_handoff
    return {key: (n, handed[key] / n) for key, n in hits.items()}
