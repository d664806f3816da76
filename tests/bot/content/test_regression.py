"""The regression verdict, on measurements written by hand (measure() itself runs for real in
tests/bot/content/test_publisher.py)."""
from __future__ import annotations

from bot.content.regression import compare


def _measurement(accuracy, rejection, faqs):
    return {"in_scope_accuracy": accuracy, "oos_rejection": rejection, "faqs": faqs}


BEFORE = _measurement(0.9, 0.8, {
    "faq/returns": {"held": 4, "right": 4, "misses": []},
    "faq/exchanges": {"held": 4, "right": 3, "misses": [["cambio talla", "faq/returns"]]},
    "out_of_scope": {"held": 10, "right": 8, "misses": []},
})


def test_nothing_published_yet_passes():
    assert compare(None, BEFORE).ok


def test_a_drop_within_the_margin_passes_but_still_names_the_faq_that_got_worse():
    after = _measurement(0.89, 0.8, {**BEFORE["faqs"], "faq/returns": {
        "held": 4, "right": 3, "misses": [["quiero devolver", "faq/exchanges"]]}})
    verdict = compare(BEFORE, after, max_drop=0.02)
    assert verdict.ok and verdict.reasons == []
    assert verdict.worse == [{"faq": "faq/returns", "before": 1.0, "after": 0.75,
                              "misses": [["quiero devolver", "faq/exchanges"]]}]


def test_accuracy_or_rejection_falling_beyond_the_margin_is_refused_with_both_reasons():
    after = _measurement(0.85, 0.7, {**BEFORE["faqs"], "out_of_scope": {
        "held": 10, "right": 7, "misses": [["chiste", "faq/promotions"]]}})
    verdict = compare(BEFORE, after, max_drop=0.02)
    assert not verdict.ok
    assert verdict.reasons == [
        "in-scope accuracy fell from 90.0% to 85.0% (allowed drop 2.0%)",
        "out-of-scope rejection fell from 80.0% to 70.0% (allowed drop 2.0%)",
    ]
    assert [w["faq"] for w in verdict.worse] == ["out_of_scope"]
