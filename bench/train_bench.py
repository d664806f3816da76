"""Training-time figures: a cold full training, a no-change check, and one edited FAQ → model.

    python -m bench.train_bench        (make bench-train)

Works on a copy of the project in a temporary folder with its own Rasa cache, so the figures
do not depend on what this checkout trained before and the checkout is never modified.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EDITED_FAQ = Path("data/faq/shipping_cost.yml")
NEW_EXAMPLE = "    - y el envio a tijuana cuanto me sale\n"


def _copy_project(target: Path) -> None:
    for name in ("config.yml", "domain.yml"):
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(ROOT / "data", target / "data")
    # The fingerprint covers the NLU components' code, read from <root>/bot/nlu.
    shutil.copytree(ROOT / "bot" / "nlu", target / "bot" / "nlu")


def _add_example(project: Path) -> None:
    path = project / EDITED_FAQ
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == "examples: |") + 1
    lines.insert(at, NEW_EXAMPLE)
    path.write_text("".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "train_bench.json")
    args = parser.parse_args(argv)

    from bot.content import training

    training._quiet_rasa()
    with tempfile.TemporaryDirectory(prefix="train-bench-") as tmp:
        project = Path(tmp)
        _copy_project(project)
        os.environ["RASA_CACHE_DIRECTORY"] = str(project / ".rasa" / "cache")
        cold = training.train(root=project, force=True)
        unchanged = training.train(root=project)
        _add_example(project)
        edited = training.train(root=project)
    figures = {
        "full_training_cold_cache_s": round(cold.seconds, 1),
        "nothing_changed_check_s": round(unchanged.seconds, 2),
        "one_faq_edited_to_new_model_s": round(edited.seconds, 1),
        "edited_retrained": edited.trained,
    }
    print(f"{'measure':<38}{'seconds':>10}")
    print(f"{'full training (cold cache)':<38}{cold.seconds:>10.1f}")
    print(f"{'nothing changed (check only)':<38}{unchanged.seconds:>10.2f}")
    print(f"{'one FAQ example added → new model':<38}{edited.seconds:>10.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2))
    return 0 if edited.trained and not unchanged.trained else 1


if __name__ == "__main__":
    sys.exit(main())
