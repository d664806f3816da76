"""The numbers behind the classifier's confidence (bot/nlu/classifier.py): how certain its
probabilities are, and what inference derives from a trained model once rather than per message."""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np
import scipy.sparse as sp


def certainty(probabilities: np.ndarray) -> np.ndarray:
    """Per label: how sure the classifier is of the winner, scaled for runner-ups by their
    probability relative to the winner's (so the ranking stays sorted).

    Certainty is 1 - entropy / log(number of labels): 0 for a uniform guess, 1 for a sure one,
    whatever the catalogue size, so one fixed threshold means the same for 10 FAQs or 40 (a raw
    softmax maximum would not). Unlike comparing the winner with its runner-up only, it also
    notices doubt spread over several labels, typical of out-of-scope text; its ROC AUC for
    out-of-scope text was 0.891 vs 0.860 SOFMattress, 0.958 vs 0.941 our FAQs."""
    labels = probabilities.shape[1]
    if labels < 2:
        return np.ones_like(probabilities)
    entropy = -(probabilities * np.log(np.maximum(probabilities, 1e-12))).sum(axis=1)
    certainty = np.clip(1.0 - entropy / np.log(labels), 0.0, 1.0)
    winner = probabilities.max(axis=1, keepdims=True)
    return certainty[:, None] * probabilities / np.maximum(winner, 1e-12)


class Prepared(NamedTuple):
    """What inference derives from a trained model once, not per message: the examples
    transposed for the similarity product, the examples grouped by label for the per-label
    maximum, and the weights split into their n-gram and embedding columns."""

    examples_t: sp.csr_matrix
    order: np.ndarray
    starts: np.ndarray
    # Transposed and C-ordered: scipy's sparse × dense product copies a dense operand that is
    # not (the whole weight matrix, 0.9 ms per message).
    ngram_coef_t: Optional[np.ndarray]
    embedding_coef_t: Optional[np.ndarray]

    @classmethod
    def of(cls, examples: sp.csr_matrix, example_labels: np.ndarray, labels: int,
           coef: Optional[np.ndarray], ngram_width: int, weight: float) -> "Prepared":
        order = np.argsort(example_labels, kind="stable")
        # Every label has examples: the labels are the training targets.
        starts = np.searchsorted(example_labels[order], np.arange(labels))
        ngram_coef_t = embedding_coef_t = None
        if coef is not None:
            ngram_coef_t = np.ascontiguousarray(coef[:, :ngram_width].T)
            embedding_coef_t = np.ascontiguousarray(coef[:, ngram_width:].T * weight)
        return cls(sp.csr_matrix(examples.T), order, starts, ngram_coef_t, embedding_coef_t)

    def nearest_per_label(self, similarities: np.ndarray) -> np.ndarray:
        """(texts × examples) → (texts × labels): each label's highest similarity."""
        return np.maximum.reduceat(similarities[:, self.order], self.starts, axis=1)
