"""bot/nlu/features.py: the hand-written tf-idf is sklearn's, number for number."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.nlu.features import NgramBlock, l2_normalise

TEXTS = ["cuanto cuesta el envio", "costo de envio", "el envio es gratis", "a que hora abren",
         "horario de la tienda", "hola", "envio envio envio gratis"]


@pytest.mark.parametrize("analyzer, ngram_range", [("word", (1, 2)), ("char_wb", (2, 5))])
def test_a_block_is_sklearns_sublinear_smoothed_l2_tfidf(analyzer, ngram_range):
    block = NgramBlock(analyzer, ngram_range).fit(TEXTS)
    reference = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, lowercase=False,
                                token_pattern=r"(?u)\b\w+\b", sublinear_tf=True).fit(TEXTS)
    unseen = ["envio gratis a monterrey", "zzz", "cuanto cuesta"]
    # Twice: the second call goes through the vectoriser kept from the first.
    for _ in range(2):
        ours = block.transform(TEXTS + unseen).toarray()
        theirs = reference.transform(TEXTS + unseen).toarray()
        order = [reference.vocabulary_[term] for term in sorted(block.vocabulary, key=block.vocabulary.get)]
        assert np.allclose(ours, theirs[:, order], atol=1e-12)


def test_a_block_read_back_from_its_dict_transforms_the_same():
    block = NgramBlock("char_wb", (2, 5)).fit(TEXTS)
    again = NgramBlock.from_dict(block.to_dict())
    assert np.array_equal(block.transform(TEXTS).toarray(), again.transform(TEXTS).toarray())


def test_l2_normalise_gives_unit_rows_leaves_zero_rows_and_its_input_alone():
    matrix = sp.csr_matrix(np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [0.0, 2.0, 0.0]]))
    before = matrix.toarray().copy()
    out = l2_normalise(matrix).toarray()
    assert np.allclose(out, [[0.6, 0.8, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert np.array_equal(matrix.toarray(), before)
