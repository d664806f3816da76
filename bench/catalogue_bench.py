"""Does one out-of-scope threshold hold as the FAQ catalogue grows or shrinks?

    python -m bench.catalogue_bench                # our FAQs and SOFMattress, at several sizes
    python -m bench.catalogue_bench --sizes 4 12 33 --only own

Leads add and remove FAQs; nobody re-tunes config.yml. So the same pipeline and threshold are
trained on catalogues of very different sizes cut from the same data, and scored the same way,
with stock Rasa (bench/configs/rasa_logreg.yml) beside it in the same run.

A catalogue of k labels is the first k labels in a fixed hash order (adding a label never
reshuffles the others). Its test set: the held-out examples of those k labels (in scope), plus
out-of-scope text: the data set's own out-of-scope rows *and* the held-out examples of every
label left out of the catalogue — questions the assistant was never taught, which is exactly
what a small catalogue meets in real traffic. Results go to stdout and results/catalogue_bench.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bench.nlu_bench import (
    HINT3, OWN_OOS_LABEL, ROOT, Result, Row, print_table, project_examples, quiet_rasa, read_csv, run,
    split_own,
)

DEFAULT_SIZES = (4, 8, 16, 0)  # 0 = every label
BASELINE = ROOT / "bench" / "configs" / "rasa_logreg.yml"
SOF_OOS = "NO_NODES_DETECTED"


def _order(labels: Sequence[str]) -> List[str]:
    return sorted(set(labels), key=lambda label: hashlib.sha1(label.encode()).hexdigest())


def catalogue(train: Sequence[Row], test: Sequence[Row], oos_label: str, size: int,
              always: Sequence[str] = ()) -> Tuple[List[Row], List[Row]]:
    """The first `size` labels (plus `always`, e.g. greetings a real assistant always has);
    everything else in the test set becomes out of scope, and its training rows are dropped."""
    candidates = [label for label in _order([label for _, label in train]) if label not in always]
    kept = set(candidates if size <= 0 else candidates[:size]) | set(always)
    sub_train = [(text, label) for text, label in train if label in kept]
    sub_test = [(text, label if label in kept else oos_label) for text, label in test]
    return sub_train, sub_test


def own_data() -> Tuple[List[Row], List[Row], List[str]]:
    train, test = split_own(project_examples())
    # Only FAQs vary in size; the core intents (greet, thanks, human_handoff, ...) stay, as
    # every real deployment of this assistant has them.
    core = sorted({label for _, label in train if not label.startswith("faq__")})
    return train, test, core


def sweep(name: str, train: Sequence[Row], test: Sequence[Row], oos_label: str, sizes: Sequence[int],
          configs: Sequence[Path], always: Sequence[str] = ()) -> List[Result]:
    results = []
    for size in sizes:
        sub_train, sub_test = catalogue(train, test, oos_label, size, always)
        labels = len({label for _, label in sub_train})
        for config in configs:
            results.append(run(f"{name}-{labels}", sub_train, sub_test, oos_label, config))
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES),
                        help="labels per catalogue (0 = all)")
    parser.add_argument("--only", choices=["sofmattress", "own"])
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "catalogue_bench.json")
    args = parser.parse_args(argv)
    quiet_rasa()
    configs = [args.config, args.baseline]
    results: List[Result] = []
    if args.only in (None, "own"):
        train, test, core = own_data()
        results += sweep("own", train, test, OWN_OOS_LABEL, args.sizes, configs, always=core)
    if args.only in (None, "sofmattress"):
        train_csv, test_csv = HINT3 / "sofmattress_train.csv", HINT3 / "sofmattress_test.csv"
        if train_csv.is_file() and test_csv.is_file():
            results += sweep("sofmattress", read_csv(train_csv), read_csv(test_csv), SOF_OOS,
                             args.sizes, configs)
        else:
            print(f"SKIP sofmattress: {HINT3} is absent (shared data lives beside the repo)")
    print()
    print_table(results)
    spread: Dict[str, Dict[str, float]] = {}
    for stem in {Path(r.config).stem for r in results}:
        mine = [r for r in results if Path(r.config).stem == stem]
        spread[stem] = {
            "oos_recall_min": min(r.oos_recall or 0.0 for r in mine),
            "oos_recall_max": max(r.oos_recall or 0.0 for r in mine),
            "in_scope_accuracy_min": min(r.in_scope_accuracy for r in mine),
            "in_scope_accuracy_max": max(r.in_scope_accuracy for r in mine),
        }
        print(f"{stem}: out-of-scope recall {spread[stem]['oos_recall_min']:.3f}–"
              f"{spread[stem]['oos_recall_max']:.3f}, in-scope accuracy "
              f"{spread[stem]['in_scope_accuracy_min']:.3f}–{spread[stem]['in_scope_accuracy_max']:.3f} "
              f"across catalogue sizes")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sizes": args.sizes, "spread": spread, "results": [asdict(r) for r in results],
    }, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
