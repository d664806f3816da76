"""Text normalisation shared by the NLU components.

Customers type on phones: no accents, stretched letters ("holaaaa"), stray punctuation.
Both training examples and incoming messages go through the same function, so an accent typed
in the FAQ data but not by the customer (or the reverse) makes no difference.
"""
from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w\s]+")
_REPEATS = re.compile(r"(\w)\1{2,}")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> str:
    text = strip_accents(text.lower())
    # Three or more repeats are emphasis, never spelling ("llevar" keeps its double l).
    text = _REPEATS.sub(r"\1\1", text)
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """Alphabetic words of the normalised text (numbers and emoji dropped)."""
    return _WORD.findall(normalize(text))
