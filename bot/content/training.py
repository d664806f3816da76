"""Train the assistant into models/ only when something it is built from has changed.

    python -m bot.content.training [--force]

Rasa 3.6 always repackages a model when asked to train, even when its graph cache
(.rasa/cache) holds every trained component, so the "did anything change?" check is ours: a
fingerprint of config.yml, the domain, data/, the custom NLU components' source and the Rasa
version, stored next to the model. When only data changed, Rasa's cache keeps every component
whose inputs are unchanged (e.g. RulePolicy when only NLU examples moved) and our sparse
classifier retrains in seconds, which is what keeps an FAQ edit quick.

Rasa's cache is keyed on component configs and inputs, not on component code, so a change
to bot/nlu/*.py forces a full retraining that bypasses the cache.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "assistant"
# In Rasa's cache directory: the fingerprint of the component code that filled it.
CACHE_CODE_STAMP = "component-code.fingerprint"


@dataclass
class Outcome:
    model_path: Path
    trained: bool
    seconds: float


def _digest(paths: Sequence[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _domain_path(root: Path) -> Path:
    directory = root / "domain"
    return directory if directory.is_dir() else root / "domain.yml"


def _files(path: Path) -> List[Path]:
    if path.is_file():
        return [path]
    return [p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml", ".md", ".json")]


def fingerprint(root: Path = ROOT) -> dict:
    import rasa

    inputs = [root / "config.yml", *_files(_domain_path(root)), *_files(root / "data")]
    code = list((root / "bot" / "nlu").glob("*.py"))
    return {
        "inputs": _digest([p for p in inputs if p.exists()], root),
        "code": _digest(code, root) + ":" + rasa.__version__,
    }


def _stamp(stamp_path: Path) -> Optional[dict]:
    try:
        return json.loads(stamp_path.read_text())
    except (OSError, ValueError):
        return None


def model_files(output: Path) -> tuple[Path, Path]:
    """The model in `output` and its fingerprint stamp."""
    return output / f"{MODEL_NAME}.tar.gz", output / f"{MODEL_NAME}.fingerprint.json"


def cache_dir(root: Path) -> Path:
    """Rasa's training cache. Relative to the project, not the caller's working directory, so
    the launcher, the publish worker, the tests and a developer's shell all share one."""
    os.environ.setdefault("RASA_CACHE_DIRECTORY", str(root / ".rasa" / "cache"))
    path = Path(os.environ["RASA_CACHE_DIRECTORY"])
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def rasa_cache(path: Path) -> Iterator[Path]:
    """Rasa's training cache is `path` inside the block (Rasa reads RASA_CACHE_DIRECTORY), and
    what it was before afterwards."""
    previous = os.environ.get("RASA_CACHE_DIRECTORY")
    os.environ["RASA_CACHE_DIRECTORY"] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop("RASA_CACHE_DIRECTORY", None)
        else:
            os.environ["RASA_CACHE_DIRECTORY"] = previous


def needs_full_training(root: Path, current: dict, force: bool = False) -> bool:
    """Rasa keys its cache on component configs and inputs, not on component code: its entries
    can be trusted only when the code that filled it is this code. That is recorded beside the
    cache, not beside a model, because trainings into different folders (the launcher's into
    models/, the publish worker's into var/publish/build) share the cache: judged by the
    folder's own stamp, a worker's first publish retrained everything (22 s instead of 11)."""
    try:
        cached = (cache_dir(root) / CACHE_CODE_STAMP).read_text()
    except OSError:
        cached = None  # unknown provenance
    return force or cached != current["code"]


def up_to_date(root: Path = ROOT, output: Optional[Path] = None) -> bool:
    """Whether train() would return the model in `output` as it is, without training."""
    model_path, stamp_path = model_files(output or root / "models")
    return model_path.is_file() and _stamp(stamp_path) == fingerprint(root)


def train(root: Path = ROOT, force: bool = False, output: Optional[Path] = None) -> Outcome:
    started = time.perf_counter()
    output = output or root / "models"
    model_path, stamp_path = model_files(output)
    current = fingerprint(root)
    previous = _stamp(stamp_path)
    if not force and model_path.is_file() and previous == current:
        return Outcome(model_path, False, time.perf_counter() - started)

    full = needs_full_training(root, current, force)

    import rasa.model_training

    with warnings.catch_warnings():
        # Our NgramIntentClassifier answers the retrieval intents; Rasa only knows that its
        # own ResponseSelector can, and says so on every training.
        warnings.filterwarnings("ignore", message=".*response selector.*")
        result = rasa.model_training.train(
            domain=str(_domain_path(root)),
            config=str(root / "config.yml"),
            training_files=[str(root / "data")],
            output=str(output),
            fixed_model_name=MODEL_NAME,
            force_training=full,
        )
    if result.code != 0 or not result.model:
        raise RuntimeError(f"Rasa training failed (code {result.code})")
    stamp_path.write_text(json.dumps(current, indent=2))
    (cache_dir(root) / CACHE_CODE_STAMP).write_text(current["code"])
    return Outcome(Path(result.model), True, time.perf_counter() - started)


def _quiet_rasa() -> None:
    """What the `rasa` CLI does before training; without it Rasa's structlog prints debug lines."""
    import logging

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Train the assistant if its inputs changed.")
    parser.add_argument("--force", action="store_true", help="retrain everything, ignoring the cache")
    parser.add_argument("--root", type=Path, default=ROOT, help="project to train (a copy, for timing)")
    args = parser.parse_args(argv)
    _quiet_rasa()
    try:
        outcome = train(root=args.root.resolve(), force=args.force)
    except (RuntimeError, SystemExit) as error:
        print(f"training failed: {error}", file=sys.stderr)
        return 1
    if outcome.trained:
        print(f"trained {outcome.model_path} in {outcome.seconds:.1f} s", flush=True)
    else:
        print(f"model up to date: {outcome.model_path} (checked in {outcome.seconds:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
