"""The not-understood inbox: customer messages that hit the fallback, grouped by similarity.

Each group carries the FAQ most likely meant (from the response selector's ranking of its
messages) so a lead can add the message as an example of it, or dismiss it. Only the message
text, its language and its time leave here: nothing that identifies the customer.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

from .turns import Turn, normalized

# Cosine distance between char 2–4-gram tf-idf vectors under which messages share a group
# (average linkage). Character n-grams survive the typos and missing accents of chat text;
# at this value "donde esta mi pedido" and "dónde está mi pedidoo" join, different questions don't.
GROUP_DISTANCE = 0.75


@dataclass(frozen=True)
class Message:
    event_id: int
    text: str
    language: str
    at: float
    likely_faq: str | None
    confidence: float
    handed_off: bool


@dataclass
class Group:
    messages: list[Message]
    likely_faq: str | None
    confidence: float

    @property
    def label(self) -> str:
        """The most frequent wording in the group."""
        counts: dict[str, int] = defaultdict(int)
        for m in self.messages:
            counts[normalized(m.text)] += 1
        best = max(counts.values())
        return next(m.text for m in self.messages if counts[normalized(m.text)] == best)

    @property
    def event_ids(self) -> list[int]:
        return [m.event_id for m in self.messages]


def messages(turns: list[Turn], dismissed: set[int]) -> list[Message]:
    """Typed customer messages the bot did not understand, newest first, minus dismissed ones."""
    found = []
    for turn in turns:
        if not (turn.fallback and turn.typed and turn.text.strip()) or turn.event_id in dismissed:
            continue
        faq, confidence = turn.faq_ranking[0] if turn.faq_ranking else (None, 0.0)
        found.append(Message(turn.event_id, turn.text, turn.language, turn.at, faq, confidence,
                             turn.ended_in_handoff))
    return sorted(found, key=lambda m: -m.at)


def _labels(texts: list[str]) -> list[int]:
    if len(texts) < 2:
        return [0] * len(texts)
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit_transform(
        [normalized(t) for t in texts])
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=GROUP_DISTANCE,
                                    affinity="cosine", linkage="average")
    return model.fit_predict(vectors.toarray()).tolist()


def _likely(members: list[Message]) -> tuple[str | None, float]:
    """The FAQ the group's messages point to most (summed confidence), with its mean confidence."""
    votes: dict[str, list[float]] = defaultdict(list)
    for m in members:
        if m.likely_faq:
            votes[m.likely_faq].append(m.confidence)
    if not votes:
        return None, 0.0
    key = max(votes, key=lambda k: (sum(votes[k]), k))
    return key, float(np.mean(votes[key]))


def groups(found: list[Message]) -> list[Group]:
    """Similar messages together; the largest groups first, then the newest."""
    by_label: dict[int, list[Message]] = defaultdict(list)
    for label, message in zip(_labels([m.text for m in found]), found):
        by_label[label].append(message)
    result = [Group(members, *_likely(members)) for members in by_label.values()]
    return sorted(result, key=lambda g: (-len(g.messages), -g.messages[0].at))
