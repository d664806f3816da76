"""bot/nlu/fit.py fits the same model as sklearn on the features themselves, only faster."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from bot.nlu import fit

PARAMS = dict(C=10.0, solver="newton-cg", max_iter=300, class_weight="balanced", random_state=42)


def _data(examples: int, sparse_features: int, dense_features: int, labels: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    sparse_part = sp.random(examples, sparse_features, density=0.02, random_state=seed, format="csr")
    dense_part = rng.normal(size=(examples, dense_features)) if dense_features else None
    y = rng.integers(0, labels, size=examples)
    # Duplicate examples make the Gram matrix singular, as repeated FAQ examples do.
    sparse_part = sp.vstack([sparse_part, sparse_part[:5]]).tocsr()
    if dense_part is not None:
        dense_part = np.vstack([dense_part, dense_part[:5]])
    return sparse_part, dense_part, np.concatenate([y, y[:5]])


@pytest.mark.parametrize("dense_features, labels", [(16, 5), (0, 5), (16, 2)])
def test_the_fit_in_the_examples_span_equals_sklearns_fit_on_the_features(dense_features, labels):
    sparse_part, dense_part, y = _data(120, 600, dense_features, labels)
    features = sparse_part if dense_part is None else sp.hstack([sparse_part, sp.csr_matrix(dense_part)]).tocsr()
    direct = LogisticRegression(**PARAMS).fit(features, y)

    coef, intercept = fit.fit(sparse_part, dense_part, y, **PARAMS)

    assert coef.shape == direct.coef_.shape
    assert np.abs(coef - direct.coef_).max() < 1e-3
    assert np.abs(intercept - direct.intercept_).max() < 1e-3


def test_more_examples_than_features_fits_the_features_directly():
    sparse_part, dense_part, y = _data(300, 40, 4, 3)
    coef, intercept = fit.fit(sparse_part, dense_part, y, **PARAMS)
    direct = LogisticRegression(**PARAMS).fit(sp.hstack([sparse_part, sp.csr_matrix(dense_part)]).tocsr(), y)
    assert np.allclose(coef, direct.coef_) and np.allclose(intercept, direct.intercept_)
