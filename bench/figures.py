"""The throughput benchmark's arithmetic, apart from any process so it can be tested alone:
which reply answers which message, what was lost, duplicated or out of order, percentiles, rates.

Definitions (the README's table uses them):
  ack          from posting a webhook to its HTTP answer (what Meta waits for)
  end to end   from posting a customer's message to the first reply for it at the Graph stand-in
               (for a synchronous channel, stock Rasa's REST: to the HTTP answer carrying the replies)
  lost         a message posted and acknowledged with 200 that never got a reply
  duplicate    the same content sent twice to one customer in answer to one message (each reply of
               a turn differs from the others)
  out of order a customer whose read receipts (sent when a message is taken up) came in another
               order than the messages were posted, for messages posted after the previous one's ack
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from bench.graph_standin import Arrival


@dataclass
class Sent:
    """One customer message as the load generator posted it (times: time.monotonic())."""
    wa_id: str
    wamid: str
    text: str
    posted: float
    acked: float | None = None
    status: int | None = None  # the HTTP answer's status; None: no answer (connection failed)
    replies: int = 0  # synchronous channels: replies in the answer itself

    @property
    def accepted(self) -> bool:
        return self.status == 200


@dataclass
class Matched:
    answered: dict[str, float] = field(default_factory=dict)  # wamid → first reply's arrival
    lost: list[str] = field(default_factory=list)
    duplicates: int = 0
    out_of_order: int = 0


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


def summary_ms(seconds: Iterable[float]) -> dict[str, float | None]:
    values = [s * 1000 for s in seconds]
    return {"p50_ms": _round(percentile(values, 50)), "p99_ms": _round(percentile(values, 99)), "n": len(values)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def acks(sent: Sequence[Sent]) -> list[float]:
    return [s.acked - s.posted for s in sent if s.acked is not None and s.accepted]


def match_replies(sent: Sequence[Sent], arrivals: Sequence[Arrival]) -> Matched:
    """Replies at the stand-in matched to the messages they answer. A customer's replies between
    the read receipt of one of its messages and the next receipt answer that message (the
    connector marks a message read when it takes it up); before any receipt, the first message."""
    ours = [s for s in sent if s.accepted]
    by_customer: dict[str, list[Sent]] = defaultdict(list)
    for s in ours:
        by_customer[s.wa_id].append(s)
    owner = {s.wamid: s.wa_id for s in ours}
    events: dict[str, list[Arrival]] = defaultdict(list)
    for a in sorted((a for a in arrivals if a.status == 200), key=lambda a: a.at):
        customer = a.to if a.kind == "message" else owner.get(a.message_id or "")
        if customer in by_customer:
            events[customer].append(a)
    result = Matched()
    for customer, messages in by_customer.items():
        messages = sorted(messages, key=lambda m: m.posted)
        current = messages[0].wamid
        read_at: dict[str, int] = {}
        contents: Counter[tuple[str, str]] = Counter()
        for a in events[customer]:
            if a.kind == "read":
                current = a.message_id
                read_at.setdefault(current, len(read_at))
                continue
            contents[(current, a.content or "")] += 1
            result.answered.setdefault(current, a.at)
        result.duplicates += sum(n - 1 for n in contents.values())
        result.out_of_order += _out_of_order(messages, read_at)
    result.lost = [s.wamid for s in ours if s.wamid not in result.answered]
    return result


def _out_of_order(messages: list[Sent], read_at: dict[str, int]) -> int:
    """1 when a message was taken up before one acknowledged before it was even posted (two
    posted at once have no order to keep: Meta gives none either)."""
    for i, first in enumerate(messages):
        for later in messages[i + 1:]:
            ordered = first.acked is not None and later.posted >= first.acked
            if ordered and first.wamid in read_at and later.wamid in read_at and read_at[later.wamid] < read_at[first.wamid]:
                return 1
    return 0


def synchronous_replies(sent: Sequence[Sent]) -> Matched:
    """For a channel that answers in the HTTP response (Rasa's REST): a 200 is the turn done, its
    replies in it (none when the bot chose to say nothing, as the `rasa init` bot does to
    much it does not understand); nothing can be lost after the answer."""
    return Matched(answered={s.wamid: s.acked for s in sent if s.accepted and s.acked is not None})


def end_to_end(sent: Sequence[Sent], matched: Matched) -> list[float]:
    return [matched.answered[s.wamid] - s.posted for s in sent if s.wamid in matched.answered]


def rate(sent: Sequence[Sent], matched: Matched) -> float | None:
    """Messages answered per second, from the first post to the last answer."""
    answered = [matched.answered[s.wamid] for s in sent if s.wamid in matched.answered]
    if not answered:
        return None
    span = max(answered) - min(s.posted for s in sent)
    return round(len(answered) / span, 2) if span > 0 else None


def ack_rate(sent: Sequence[Sent]) -> float | None:
    """Webhooks acknowledged (200) per second, from the first post to the last ack."""
    done = [s.acked for s in sent if s.acked is not None and s.accepted]
    if not done:
        return None
    span = max(done) - min(s.posted for s in sent)
    return round(len(done) / span, 1) if span > 0 else None
