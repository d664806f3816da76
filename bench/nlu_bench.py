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
import asyncio
import csv
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
HINT3 = SHARED / "nlu_bench" / "hint3"
REJECTED_INTENTS = {"nlu_fallback", "out_of_scope"}
OWN_OOS_LABEL = "OUT_OF_SCOPE"
# The share of each (label, language) group held out for testing our own data.
HELD_OUT_SHARE = 0.25

Row = Tuple[str, str]


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


_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def read_examples(paths: Iterable[Path]) -> List[Tuple[str, str, Optional[str]]]:
    """(text, intent, language) for every NLU example block in Rasa YAML files."""
    import yaml

    examples = []
    for path in sorted(paths):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in content.get("nlu") or []:
            if "intent" not in block or not isinstance(block.get("examples"), str):
                continue
            language = (block.get("metadata") or {}).get("language")
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = _ANNOTATION.sub(r"\1", line[2:].strip())
                    if text:
                        examples.append((text, block["intent"], language))
    return examples


def project_examples(root: Path = ROOT) -> List[Tuple[str, str, Optional[str]]]:
    return read_examples(list((root / "data").rglob("*.yml")))


def _plain(label: str) -> str:
    return label.replace("/", "__")


def split_own(
    examples: Sequence[Tuple[str, str, Optional[str]]], share: float = HELD_OUT_SHARE
) -> Tuple[List[Row], List[Row]]:
    """Deterministic stratified split: per (intent, language), the examples whose hash sorts
    first are held out, so adding one example never reshuffles the others.
    `out_of_scope` examples all go to the test set, labelled as out of scope."""
    groups: Dict[Tuple[str, Optional[str]], List[str]] = defaultdict(list)
    train: List[Row] = []
    test: List[Row] = []
    for text, intent, language in examples:
        if intent == "out_of_scope":
            test.append((text, OWN_OOS_LABEL))
        else:
            groups[(intent, language)].append(text)
    for (intent, _), texts in sorted(groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        texts = sorted(set(texts), key=lambda t: hashlib.sha1(t.encode()).hexdigest())
        held = round(len(texts) * share) if len(texts) > 1 else 0
        label = _plain(intent)
        test.extend((t, label) for t in texts[:held])
        train.extend((t, label) for t in texts[held:])
    return train, test


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


def _nlu_yaml(rows: Sequence[Row]) -> str:
    by_label: Dict[str, List[str]] = defaultdict(list)
    for text, label in rows:
        by_label[label].append(text)
    lines = ['version: "3.1"', "nlu:"]
    for label, texts in by_label.items():
        lines.append(f"- intent: {json.dumps(label)}")
        lines.append("  examples: |")
        lines.extend(f"    - {' '.join(t.split())}" for t in texts)
    return "\n".join(lines) + "\n"


def _bench_config(config_path: Path) -> str:
    """The project's NLU config without policies (train_nlu ignores them anyway)."""
    import yaml

    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config.pop("policies", None)
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def _fallback_threshold(config_path: Path) -> Optional[float]:
    import yaml

    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return None


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
    # "a/b" would be a retrieval intent to Rasa, answered through the response selector;
    # the benchmark scores labels, so every label is made a plain intent.
    train = [(text, _plain(label)) for text, label in train]
    test = [(text, _plain(label)) for text, label in test]
    oos_label = _plain(oos_label)
    with tempfile.TemporaryDirectory(prefix="nlu-bench-") as tmp:
        tmp_path = Path(tmp)
        # A private cache: the training time must not benefit from an earlier run.
        previous_cache = os.environ.get("RASA_CACHE_DIRECTORY")
        os.environ["RASA_CACHE_DIRECTORY"] = str(tmp_path / "cache")
        try:
            (tmp_path / "nlu.yml").write_text(_nlu_yaml(train), encoding="utf-8")
            (tmp_path / "config.yml").write_text(_bench_config(config_path), encoding="utf-8")
            intents = sorted({label for _, label in train})
            (tmp_path / "domain.yml").write_text(
                'version: "3.1"\nintents:\n' + "".join(f"- {json.dumps(i)}\n" for i in intents),
                encoding="utf-8",
            )
            import rasa.model_training
            from rasa.core.agent import Agent

            started = time.perf_counter()
            model = rasa.model_training.train_nlu(
                config=str(tmp_path / "config.yml"),
                nlu_data=str(tmp_path / "nlu.yml"),
                output=str(tmp_path / "models"),
                fixed_model_name="bench",
                domain=str(tmp_path / "domain.yml"),
            )
            train_seconds = time.perf_counter() - started
            if not model:
                raise RuntimeError(f"{name}: training failed")
            agent = Agent.load(model)

            async def parse_all() -> List[dict]:
                # A leading "/" would be read as an intent payload, not text.
                return [await agent.parse_message(text.lstrip("/")) for text, _ in test]

            started = time.perf_counter()
            parsed = asyncio.run(parse_all())
            parse_ms = (time.perf_counter() - started) * 1000 / len(test)
        finally:
            if previous_cache is None:
                os.environ.pop("RASA_CACHE_DIRECTORY", None)
            else:
                os.environ["RASA_CACHE_DIRECTORY"] = previous_cache

    truth = [label for _, label in test]
    predicted = [_predicted_label(p, oos_label) for p in parsed]
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


def _predicted_label(parsed: dict, oos_label: str) -> str:
    name = (parsed.get("intent") or {}).get("name")
    if not name or name in REJECTED_INTENTS:
        return oos_label
    return name


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
            examples = project_examples()
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
    threshold = _fallback_threshold(args.config)
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
