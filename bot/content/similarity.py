"""The near-duplicate rule for NLU examples, and the search for its pairs among thousands.

Examples here are WhatsApp fragments of 2–8 words, so:
- token-set Jaccard >= 0.9 can only be met by the *same words* unless a message has 10+ distinct
  words; it catches reorderings ("costo envio" / "envio costo") without flagging two FAQs
  that merely share words ("cuanto tarda el envio" / "cuanto cuesta el envio": 0.6);
- difflib ratio >= 0.95 catches a one-letter typo in a 20+ character sentence, which is how
  copy-pasted examples drift apart. On the shipped data the closest pairs of different intents
  are "que talla de jeans pido" / "que talla de tenis pido" (0.91) and "ok gracias" (thanks) /
  "no gracias" (deny) (0.90): one word that changes the answer. 0.95 keeps a margin above
  such legitimate pairs (the highest Jaccard among them is 0.71).

Why the search is vectorised: the shipped catalogue has 1.3 million pairs of examples of
different intents, and testing each in Python took 7.5 s of every publish's validation. NumPy
computes, for all pairs at once, the word Jaccard and the two upper bounds of difflib's ratio
that `similar` uses to rule pairs out; only the pairs those let through are tested with
`similar` itself, so the outcome is the same, pair for pair (tests/bot/content/test_similarity.py).
"""
from __future__ import annotations

import difflib
import functools
from collections import Counter
from typing import Iterator, Sequence

import numpy as np
import scipy.sparse as sp

JACCARD_MIN = 0.9
RATIO_MIN = 0.95
# Rows compared with all others at once: bounds the (rows x examples x letters) array.
_CHUNK = 128
# The bounds only rule pairs out; a hair below the limit so that rounding never rules out a
# pair `similar` would accept.
_SLACK = 1e-9


@functools.lru_cache(maxsize=None)
def words(normal: str) -> frozenset[str]:
    return frozenset(normal.split())


@functools.lru_cache(maxsize=None)
def letters(normal: str) -> Counter[str]:
    return Counter(normal)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def similar(a: str, b: str) -> bool:
    """The rule, for two normalised examples."""
    if a == b:
        return True
    if jaccard(words(a), words(b)) >= JACCARD_MIN:
        return True
    # Both bounds are >= difflib's ratio, so most pairs are ruled out before difflib runs:
    # 2*shorter/(both lengths), then the same with shared characters counted regardless of order.
    if 2 * min(len(a), len(b)) / (len(a) + len(b)) < RATIO_MIN:
        return False
    shared = sum((letters(a) & letters(b)).values())
    if 2 * shared / (len(a) + len(b)) < RATIO_MIN:
        return False
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= RATIO_MIN


def _incidence(items: Sequence[Sequence[str]]) -> sp.csr_matrix:
    index: dict[str, int] = {}
    rows, cols = [], []
    for row, tokens in enumerate(items):
        for token in set(tokens):
            rows.append(row)
            cols.append(index.setdefault(token, len(index)))
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(items), max(len(index), 1)))


def similar_pairs(normals: Sequence[str], groups: Sequence[str], firsts: int) -> Iterator[tuple[int, int]]:
    """Pairs (i, j), i < firsts, i < j, of different groups whose texts are `similar`, in row
    order: every pair of the first `firsts` texts with a later one."""
    if firsts == 0 or len(normals) < 2:
        return
    word_sets = _incidence([t.split() for t in normals])
    word_counts = np.asarray(word_sets.sum(axis=1)).ravel()
    alphabet = {char: i for i, char in enumerate(sorted(set("".join(normals))))}
    char_counts = np.zeros((len(normals), max(len(alphabet), 1)), dtype=np.int32)
    for row, text in enumerate(normals):
        for char, count in letters(text).items():
            char_counts[row, alphabet[char]] = count
    lengths = np.array([len(t) for t in normals])
    group_ids = np.unique(np.asarray(groups), return_inverse=True)[1]
    columns = np.arange(len(normals))
    for start in range(0, firsts, _CHUNK):
        rows = np.arange(start, min(start + _CHUNK, firsts))
        shared_words = (word_sets[rows] @ word_sets.T).toarray()
        union = word_counts[rows, None] + word_counts[None, :] - shared_words
        total = lengths[rows, None] + lengths[None, :]
        shared_chars = np.minimum(char_counts[rows, None, :], char_counts[None, :, :]).sum(axis=2)
        maybe = (
            (shared_words >= (JACCARD_MIN - _SLACK) * union)
            | ((2 * np.minimum(lengths[rows, None], lengths[None, :]) >= (RATIO_MIN - _SLACK) * total)
               & (2 * shared_chars >= (RATIO_MIN - _SLACK) * total))
        )
        maybe &= (columns[None, :] > rows[:, None]) & (group_ids[rows, None] != group_ids[None, :])
        for i, j in zip(*np.nonzero(maybe)):
            if similar(normals[rows[i]], normals[j]):
                yield int(rows[i]), int(j)
