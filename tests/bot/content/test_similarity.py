"""similar_pairs finds exactly the pairs a test of every pair with `similar` finds."""
from __future__ import annotations

import itertools

from hypothesis import given, settings, strategies as st

from bot.content.similarity import similar, similar_pairs

WORDS = ["cuanto", "cuesta", "el", "envio", "a", "tijuana", "que", "talla", "de", "tenis", "pido",
         "ok", "no", "gracias", "hola", "buenas", "tardes", "jeans"]
# Sentences and their near copies (a letter doubled or dropped), so every path of the rule runs.
sentence = st.lists(st.sampled_from(WORDS), min_size=1, max_size=7).map(" ".join)
variant = st.tuples(sentence, st.sampled_from(["", "double", "drop", "shuffle"])).map(
    lambda pair: {"": pair[0], "double": pair[0] + pair[0][-1], "drop": pair[0][:-1] or pair[0],
                  "shuffle": " ".join(reversed(pair[0].split()))}[pair[1]])


def brute_force(normals, groups, firsts):
    return [(i, j) for i in range(firsts) for j in range(i + 1, len(normals))
            if groups[i] != groups[j] and similar(normals[i], normals[j])]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(variant, st.sampled_from("abc")), min_size=2, max_size=40), st.data())
def test_the_vectorised_search_equals_testing_every_pair(rows, data):
    normals, groups = [r[0] for r in rows], [r[1] for r in rows]
    firsts = data.draw(st.integers(0, len(rows)))
    assert list(similar_pairs(normals, groups, firsts)) == brute_force(normals, groups, firsts)


def test_the_near_duplicates_the_rule_is_for_are_found_and_neighbours_are_not():
    normals = ["costo envio", "envio costo", "que talla de jeans pido", "que talla de tenis pido",
               "ok gracias", "no gracias", "cuanto cuesta el envio a tijuana", "cuanto cuesta el envio a tijuanaa"]
    groups = ["a", "b", "a", "b", "a", "b", "a", "b"]
    assert list(similar_pairs(normals, groups, len(normals))) == [(0, 1), (6, 7)]
    assert [p for p in itertools.combinations(range(8), 2) if groups[p[0]] != groups[p[1]]
            and similar(normals[p[0]], normals[p[1]])] == [(0, 1), (6, 7)]
