"""Sparse tf-idf n-gram features that persist as plain JSON (no pickles in a model archive)."""
from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer


class NgramBlock:
    """One tf-idf block (word or char n-grams) with a fixed vocabulary.

    Written out by hand (sublinear tf, smoothed idf, L2) rather than pickling a fitted
    TfidfVectorizer so the model files are plain JSON/NumPy, loadable without pickle.
    """

    def __init__(self, analyzer: str, ngram_range: tuple[int, int], vocabulary=None, idf=None):
        self.analyzer = analyzer
        self.ngram_range = tuple(ngram_range)
        self.vocabulary = vocabulary
        self.idf = idf
        # Kept between calls: a new CountVectorizer re-validates the whole vocabulary (tens of
        # thousands of n-grams) on its first transform, 2 ms per message (issue 11's profile).
        self._fixed_counter: CountVectorizer | None = None

    def _counter(self) -> CountVectorizer:
        return CountVectorizer(
            analyzer=self.analyzer,
            ngram_range=self.ngram_range,
            lowercase=False,
            # Single letters matter in chat Spanish ("q", "y", "o").
            token_pattern=r"(?u)\b\w+\b",
            vocabulary=self.vocabulary,
        )

    def fit(self, texts: List[str]) -> "NgramBlock":
        counter = self._counter()
        counts = counter.fit_transform(texts)
        self.vocabulary = {term: int(i) for term, i in counter.vocabulary_.items()}
        self._fixed_counter = None
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self.idf = np.log((1 + counts.shape[0]) / (1 + df)) + 1.0
        return self

    def transform(self, texts: List[str]) -> sp.csr_matrix:
        if not self.vocabulary:
            return sp.csr_matrix((len(texts), 0))
        if self._fixed_counter is None:
            self._fixed_counter = self._counter()
        counts = self._fixed_counter.transform(texts).astype(np.float64).tocsr()
        # Sublinear tf times idf, element by element: the same numbers as multiplying by a
        # diagonal matrix, without building one per message.
        counts.data = (1.0 + np.log(counts.data)) * self.idf[counts.indices]
        return l2_normalise(counts)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "analyzer": self.analyzer,
            "ngram_range": list(self.ngram_range),
            "vocabulary": self.vocabulary,
            "idf": list(map(float, self.idf)) if self.idf is not None else [],
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "NgramBlock":
        return cls(data["analyzer"], data["ngram_range"], data["vocabulary"], np.array(data["idf"]))


def l2_normalise(matrix: sp.spmatrix) -> sp.csr_matrix:
    """Each row scaled to unit length (an all-zero row stays zero); a new matrix."""
    matrix = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    norms = np.sqrt(np.bincount(rows, weights=matrix.data ** 2, minlength=matrix.shape[0]))
    norms[norms == 0] = 1.0
    # Row by row, on the stored values only: scipy's diagonal product cost more per message
    # than the arithmetic.
    matrix.data *= (1.0 / norms)[rows]
    return matrix
