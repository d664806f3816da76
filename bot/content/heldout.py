"""Held-out NLU examples and the NLU-only train-and-parse both the NLU bench and the publish
regression check run, so that what the bench reports and what a publish is judged by are one
measurement.

The split is deterministic per (intent, language): the examples whose hash sorts first are
held out, so adding one example never reshuffles the others and two publishes are measured on
nearly the same held-out set.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bot.content.training import rasa_cache

REJECTED_INTENTS = {"nlu_fallback", "out_of_scope"}
OWN_OOS_LABEL = "OUT_OF_SCOPE"
# The share of each (label, language) group held out for testing our own data.
HELD_OUT_SHARE = 0.25

Row = Tuple[str, str]
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


def project_examples(root: Path) -> List[Tuple[str, str, Optional[str]]]:
    return read_examples(list((root / "data").rglob("*.yml")))


def plain(label: str) -> str:
    """"a/b" would be a retrieval intent to Rasa, answered through the response selector; a
    measurement scores labels, so every label is made a plain intent."""
    return label.replace("/", "__")


def unplain(label: str) -> str:
    return label.replace("__", "/", 1)


def split_own(
    examples: Sequence[Tuple[str, str, Optional[str]]], share: float = HELD_OUT_SHARE
) -> Tuple[List[Row], List[Row]]:
    """Deterministic stratified split (labels made plain). `out_of_scope` examples all go to
    the test set, labelled as out of scope: what they measure is the rejection threshold."""
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
        label = plain(intent)
        test.extend((t, label) for t in texts[:held])
        train.extend((t, label) for t in texts[held:])
    return train, test


def nlu_yaml(rows: Sequence[Row]) -> str:
    by_label: Dict[str, List[str]] = defaultdict(list)
    for text, label in rows:
        by_label[label].append(text)
    lines = ['version: "3.1"', "nlu:"]
    for label, texts in by_label.items():
        lines.append(f"- intent: {json.dumps(label)}")
        lines.append("  examples: |")
        lines.extend(f"    - {' '.join(t.split())}" for t in texts)
    return "\n".join(lines) + "\n"


def nlu_config(config_path: Path) -> str:
    """The project's NLU config without policies (train_nlu ignores them anyway)."""
    import yaml

    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config.pop("policies", None)
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def fallback_threshold(config_path: Path) -> Optional[float]:
    """The FallbackClassifier's threshold in a config (Rasa's default when the config names none):
    below it the intent becomes nlu_fallback. None without a FallbackClassifier."""
    import yaml

    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return None


def predicted_label(parsed: dict, oos_label: str) -> str:
    name = (parsed.get("intent") or {}).get("name")
    if not name or name in REJECTED_INTENTS:
        return oos_label
    return name


@dataclass
class Parsed:
    results: List[dict]
    train_seconds: float
    parse_ms_per_message: float


def train_and_parse(train: Sequence[Row], texts: Sequence[str], config_path: Path,
                    cache_dir: Optional[Path] = None, batch: bool = False) -> Parsed:
    """Trains the config's NLU pipeline on `train` (labels already plain) in a throwaway
    project and parses `texts` through Rasa itself, threshold included. `cache_dir` None means
    a private, empty cache (a benchmark's training time must not benefit from an earlier run);
    the publisher passes a kept one, so unchanged components are not retrained. `batch` runs
    every text through the graph at once (the publisher's check, ~20x faster); one by one is
    what a customer's message costs, which the benchmark reports."""
    with tempfile.TemporaryDirectory(prefix="nlu-check-") as tmp:
        tmp_path = Path(tmp)
        with rasa_cache(cache_dir or tmp_path / "cache"):
            (tmp_path / "nlu.yml").write_text(nlu_yaml(train), encoding="utf-8")
            (tmp_path / "config.yml").write_text(nlu_config(config_path), encoding="utf-8")
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
                fixed_model_name="check",
                domain=str(tmp_path / "domain.yml"),
            )
            train_seconds = time.perf_counter() - started
            if not model:
                raise RuntimeError("NLU training failed")
            agent = Agent.load(model)
            started = time.perf_counter()
            parsed = _parse_batch(agent, texts) if batch else asyncio.run(_parse_each(agent, texts))
            parse_ms = (time.perf_counter() - started) * 1000 / max(len(texts), 1)
    return Parsed(parsed, train_seconds, parse_ms)


async def _parse_each(agent, texts: Sequence[str]) -> List[dict]:
    # A leading "/" would be read as an intent payload, not text.
    return [await agent.parse_message(text.lstrip("/")) for text in texts]


def _parse_batch(agent, texts: Sequence[str]) -> List[dict]:
    """What Agent.parse_message does (MessageProcessor._parse_message_with_graph), for all texts
    in one graph run: the components' process() take a list of messages."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker

    processor = agent.processor
    target = processor.model_metadata.nlu_target
    results = processor.graph_runner.run(
        inputs={PLACEHOLDER_MESSAGE: [UserMessage(text.lstrip("/")) for text in texts],
                PLACEHOLDER_TRACKER: DialogueStateTracker("nlu-check", [])},
        targets=[target],
    )
    return [message.as_dict(only_output_properties=True) for message in results[target]]
