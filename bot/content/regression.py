"""The NLU regression check a publish must pass.

Like is compared with like: a check model is trained on the training share of the data
(bot/content/heldout.py's deterministic split) and scored on the held-out share, for the
candidate data now and, stored with every publish, for the data published before. The
published model itself was trained on everything, so it cannot be scored on held-out examples.

A publish is refused when in-scope accuracy or out-of-scope rejection falls by more than
`max_drop` (PUBLISH_MAX_DROP, default 0.02); the verdict names the FAQs whose held-out examples
got worse and which label now answers each of them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.content.heldout import (
    OWN_OOS_LABEL,
    plain,
    predicted_label,
    project_examples,
    split_own,
    train_and_parse,
    unplain,
)

OUT_OF_SCOPE = "out_of_scope"
NOT_UNDERSTOOD = "(not understood)"
DEFAULT_MAX_DROP = 0.02


def measure(root: Path, cache_dir: Optional[Path] = None) -> dict:
    """The held-out scores of the data under `root` (JSON-ready: it is stored with a publish).
    `faqs[intent]` counts that label's held-out examples and lists the missed ones with the
    label that answered them; `faqs["out_of_scope"]` lists out-of-scope examples answered."""
    started = time.perf_counter()
    train, test = split_own(project_examples(root))
    if not train or not test:
        raise ValueError("no held-out examples: the data has too few NLU examples")
    parsed = train_and_parse(train, [text for text, _ in test], root / "config.yml",
                             cache_dir=cache_dir, batch=True)
    oos = plain(OWN_OOS_LABEL)
    faqs: Dict[str, dict] = {}
    for (text, truth), result in zip(test, parsed.results):
        got = predicted_label(result, oos)
        name = OUT_OF_SCOPE if truth == oos else unplain(truth)
        entry = faqs.setdefault(name, {"held": 0, "right": 0, "misses": []})
        entry["held"] += 1
        if got == truth:
            entry["right"] += 1
        else:
            entry["misses"].append([text, NOT_UNDERSTOOD if got == oos else unplain(got)])
    in_scope = [e for name, e in faqs.items() if name != OUT_OF_SCOPE]
    held = sum(e["held"] for e in in_scope)
    rejected = faqs.get(OUT_OF_SCOPE)
    return {
        "in_scope_accuracy": round(sum(e["right"] for e in in_scope) / held, 4),
        "oos_rejection": round(rejected["right"] / rejected["held"], 4) if rejected else None,
        "held_out": held,
        "out_of_scope": rejected["held"] if rejected else 0,
        "faqs": faqs,
        "seconds": round(time.perf_counter() - started, 2),
    }


@dataclass
class Verdict:
    ok: bool
    reasons: List[str] = field(default_factory=list)
    # [{faq, before, after, misses: [[text, answered by]]}], worst first
    worse: List[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "reasons": self.reasons, "worse": self.worse}


def _share(entry: dict) -> float:
    return entry["right"] / entry["held"] if entry["held"] else 1.0


def compare(before: Optional[dict], after: dict, max_drop: float = DEFAULT_MAX_DROP) -> Verdict:
    """`before` None (nothing measured was published yet) passes: there is nothing to drop from."""
    if before is None:
        return Verdict(True, ["first measured publish: nothing to compare with"])
    reasons = []
    for key, what in (("in_scope_accuracy", "in-scope accuracy"), ("oos_rejection", "out-of-scope rejection")):
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and old - new > max_drop:
            reasons.append(f"{what} fell from {old:.1%} to {new:.1%} (allowed drop {max_drop:.1%})")
    worse = []
    for name, entry in after["faqs"].items():
        old = before["faqs"].get(name)
        if old and _share(entry) < _share(old):
            worse.append({"faq": name, "before": round(_share(old), 4), "after": round(_share(entry), 4),
                          "misses": entry["misses"]})
    worse.sort(key=lambda w: w["after"] - w["before"])
    return Verdict(not reasons, reasons, worse)
