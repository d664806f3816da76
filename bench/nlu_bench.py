"""NLU benchmark: trains the project's own config.yml pipeline on a train CSV and scores a test CSV.

    python -m bench.nlu_bench                       # SOFMattress (if ../shared) + our FAQ split
    python -m bench.nlu_bench --train T.csv --test X.csv --oos-label NONE
    python -m bench.nlu_bench --config other.yml    # compare a candidate pipeline

Each data set is a `sentence,label` CSV pair; labels seen only in the test set's out-of-scope
label must be rejected. The pipeline is trained and run through Rasa itself (train_nlu, then
Agent.parse_message), so what is measured is what the assistant runs, threshold included:
an `nlu_fallback` or `out_of_scope` prediction counts as the out-of-scope label.

Metrics: in-scope accuracy (the right label, not rejected), out-of-scope recall, Matthews
correlation over all test rows (the HINT3 paper's headline figure), training and parse time.
Results go to a table on stdout and to results/nlu_bench.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bot.content.heldout import (
    OWN_OOS_LABEL,
    REJECTED_INTENTS,
    Row,
    fallback_threshold,
    plain,
    predicted_label,
    project_examples,
    read_examples,
    split_own,
    train_and_parse,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
HINT3 = SHARED / "nlu_bench" / "hint3"


@dataclass
class Result:
    dataset: str
    train_rows: int
    test_rows: int
    labels: int
    in_scope_accuracy: float
    oos_recall: Optional[float]
    oos_precision: Optional[float]
    mcc: float
    train_seconds: float
    parse_ms_per_message: float
    config: str
    # Diagnostic only: MCC had the fallback threshold been different. Never used to set it.
    mcc_by_threshold: Dict[str, float] = field(default_factory=dict)


# -- data -----------------------------------------------------------------------------------


def read_csv(path: Path) -> List[Row]:
    with open(path, newline="", encoding="utf-8") as f:
        return [
            (row["sentence"].strip(), row["label"].strip())
            for row in csv.DictReader(f)
            if row.get("sentence", "").strip()
        ]


def write_csv(path: Path, rows: Iterable[Row]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["sentence", "label"])
        writer.writerows(rows)


# -- metrics --------------------------------------------------------------------------------


def score(
    truth: Sequence[str], predicted: Sequence[str], oos_label: str
) -> Tuple[float, Optional[float], Optional[float], float]:
    from sklearn.metrics import matthews_corrcoef

    pairs = list(zip(truth, predicted))
    in_scope = [(t, p) for t, p in pairs if t != oos_label]
    oos = [(t, p) for t, p in pairs if t == oos_label]
    predicted_oos = [(t, p) for t, p in pairs if p == oos_label]
    accuracy = sum(t == p for t, p in in_scope) / len(in_scope) if in_scope else 0.0
    recall = sum(p == oos_label for _, p in oos) / len(oos) if oos else None
    precision = (
        sum(t == oos_label for t, _ in predicted_oos) / len(predicted_oos) if predicted_oos else None
    )
    mcc = float(matthews_corrcoef(list(truth), list(predicted))) if len(set(truth) | set(predicted)) > 1 else 0.0
    return accuracy, recall, precision, mcc


# -- Rasa -----------------------------------------------------------------------------------


def run(
    name: str,
    train: Sequence[Row],
    test: Sequence[Row],
    oos_label: str,
    config_path: Path = ROOT / "config.yml",
) -> Result:
    """Trains the config's pipeline on `train` in a throwaway project and scores `test`."""
    if not train or not test:
        raise ValueError(f"{name}: empty train or test set")
    train = [(text, plain(label)) for text, label in train]
    test = [(text, plain(label)) for text, label in test]
    oos_label = plain(oos_label)
    parsed_all = train_and_parse(train, [text for text, _ in test], config_path)
    parsed = parsed_all.results
    train_seconds, parse_ms = parsed_all.train_seconds, parsed_all.parse_ms_per_message

    truth = [label for _, label in test]
    predicted = [predicted_label(p, oos_label) for p in parsed]
    accuracy, recall, precision, mcc = score(truth, predicted, oos_label)
    return Result(
        dataset=name,
        train_rows=len(train),
        test_rows=len(test),
        labels=len({label for _, label in train}),
        in_scope_accuracy=round(accuracy, 4),
        oos_recall=None if recall is None else round(recall, 4),
        oos_precision=None if precision is None else round(precision, 4),
        mcc=round(mcc, 4),
        train_seconds=round(train_seconds, 2),
        parse_ms_per_message=round(parse_ms, 2),
        config=str(config_path),
        mcc_by_threshold=_threshold_sweep(truth, parsed, oos_label),
    )


def _top_before_fallback(parsed: dict) -> Tuple[Optional[str], float]:
    """The best real intent and its confidence, ignoring the fallback's verdict."""
    for item in parsed.get("intent_ranking") or []:
        if item.get("name") not in REJECTED_INTENTS:
            return item.get("name"), float(item.get("confidence") or 0.0)
    return None, 0.0


def _threshold_sweep(truth: Sequence[str], parsed: Sequence[dict], oos_label: str) -> Dict[str, float]:
    tops = [_top_before_fallback(p) for p in parsed]
    sweep = {}
    for threshold in (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
        predicted = [name if name and c >= threshold else oos_label for name, c in tops]
        sweep[f"{threshold:.2f}"] = round(score(truth, predicted, oos_label)[3], 4)
    return sweep


# -- language detector ----------------------------------------------------------------------


def language_report(examples: Sequence[Tuple[str, str, Optional[str]]]) -> Dict[str, object]:
    """How LanguageDetector (and lingua alone, for comparison) do on examples whose block
    carries metadata.language. `decided` = share of messages given a language at all."""
    from bot.nlu.language import _lingua_detector, detect_language
    from lingua import Language

    labelled = [(text, language) for text, _, language in examples if language in ("es", "en")]
    if not labelled:
        return {}
    ours = [detect_language(text)[0] for text, _ in labelled]
    lingua_only = [
        "es" if _lingua_detector().detect_language_of(text) == Language.SPANISH else "en"
        for text, _ in labelled
    ]

    def summary(predicted: List[Optional[str]]) -> Dict[str, float]:
        decided = [(p, lang) for p, (_, lang) in zip(predicted, labelled) if p]
        return {
            "examples": len(labelled),
            "decided": round(len(decided) / len(labelled), 4),
            "accuracy_when_decided": round(sum(p == lang for p, lang in decided) / len(decided), 4)
            if decided
            else 0.0,
            "wrong": sum(p != lang for p, lang in decided),
        }

    errors = [(text, lang, p) for p, (text, lang) in zip(ours, labelled) if p and p != lang]
    return {
        "LanguageDetector": summary(ours),
        "lingua_alone": summary(lingua_only),
        "LanguageDetector_errors": errors[:30],
    }


def quiet_rasa() -> None:
    """Rasa logs every parse at debug level through structlog; a benchmark wants a table."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    for noisy in ("rasa", "tensorflow", "absl", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


# -- command line ---------------------------------------------------------------------------


def _fmt(value: Optional[float]) -> str:
    return "   n/a" if value is None else f"{value:6.3f}"


def print_table(results: Sequence[Result], out=sys.stdout) -> None:
    header = f"{'dataset':<22} {'pipeline':<14} {'train':>5} {'test':>5} {'labels':>6} {'in-acc':>6} {'oos-R':>6} {'oos-P':>6} {'MCC':>6} {'train s':>7} {'ms/msg':>6}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for r in results:
        print(
            f"{r.dataset:<22} {Path(r.config).stem[:14]:<14} {r.train_rows:>5} {r.test_rows:>5} {r.labels:>6} "
            f"{_fmt(r.in_scope_accuracy)} {_fmt(r.oos_recall)} {_fmt(r.oos_precision)} {_fmt(r.mcc)} "
            f"{r.train_seconds:>7.1f} {r.parse_ms_per_message:>6.1f}",
            file=out,
        )


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, help="train CSV (sentence,label)")
    parser.add_argument("--test", type=Path, help="test CSV (sentence,label)")
    parser.add_argument("--oos-label", default="NO_NODES_DETECTED", help="out-of-scope label in --test")
    parser.add_argument("--name", help="data set name for a --train/--test pair")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--baseline", type=Path, action="append", default=[],
                        help="another Rasa config to run on the same data, side by side (repeatable)")
    parser.add_argument("--only", choices=["sofmattress", "own"], help="run one built-in data set")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "nlu_bench.json")
    parser.add_argument("--export-own", type=Path, help="also write our FAQ split as CSVs here")
    args = parser.parse_args(argv)
    quiet_rasa()

    configs = [args.config, *args.baseline]
    results: List[Result] = []
    extra: Dict[str, object] = {}
    if args.train or args.test:
        if not (args.train and args.test):
            parser.error("--train and --test go together")
        name = args.name or args.train.stem
        for config in configs:
            results.append(run(name, read_csv(args.train), read_csv(args.test), args.oos_label, config))
    else:
        if args.only in (None, "sofmattress"):
            train_csv, test_csv = HINT3 / "sofmattress_train.csv", HINT3 / "sofmattress_test.csv"
            if train_csv.is_file() and test_csv.is_file():
                for config in configs:
                    results.append(
                        run("hint3-sofmattress", read_csv(train_csv), read_csv(test_csv), "NO_NODES_DETECTED", config)
                    )
            else:
                print(f"SKIP hint3-sofmattress: {HINT3} is absent (shared data lives beside the repo)")
        if args.only in (None, "own"):
            examples = project_examples(ROOT)
            train, test = split_own(examples)
            if args.export_own:
                args.export_own.mkdir(parents=True, exist_ok=True)
                write_csv(args.export_own / "own_train.csv", train)
                write_csv(args.export_own / "own_test.csv", test)
            if train and test:
                for config in configs:
                    results.append(run("own-faq-heldout", train, test, OWN_OOS_LABEL, config))
                extra["language_detection"] = language_report(examples)
            else:
                print("SKIP own-faq-heldout: no NLU examples under data/ yet")

    print()
    print_table(results)
    threshold = fallback_threshold(args.config)
    print(f"\nconfig: {args.config}  fallback threshold: {threshold}")
    for r in results:
        print(f"  {r.dataset} / {Path(r.config).stem}: MCC if the threshold were (diagnostic only) {r.mcc_by_threshold}")
    language = extra.get("language_detection")
    if language:
        for key in ("LanguageDetector", "lingua_alone"):
            print(f"language {key}: {language[key]}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "config": str(args.config),
                "fallback_threshold": threshold,
                "results": [asdict(r) for r in results],
                **extra,
            },
            indent=2,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
