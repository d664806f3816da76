"""scripts/ensure-venv: pip runs when the pinned requirements' content changes, and only then."""
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def project(tmp_path: Path) -> Path:
    for name in ("requirements.txt", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "ensure-venv", tmp_path / "scripts" / "ensure-venv")
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    # Stands in for the venv's interpreter: records that pip was asked to install.
    python.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'pip-calls'}\n")
    python.chmod(0o755)
    return tmp_path


def ensure(root: Path) -> list[str]:
    subprocess.run(["bash", "scripts/ensure-venv"], cwd=root, env={**os.environ, "VENV": "venv"},
                   check=True, capture_output=True)
    calls = root / "pip-calls"
    return calls.read_text().splitlines() if calls.exists() else []


def test_pip_runs_once_then_not_again_even_when_the_files_are_newer(tmp_path):
    root = project(tmp_path)
    assert len(ensure(root)) == 1
    for name in ("requirements.txt", "constraints.txt"):  # a fresh checkout: same content, new mtime
        os.utime(root / name)
    assert len(ensure(root)) == 1


def test_pip_runs_again_when_a_pin_changes(tmp_path):
    root = project(tmp_path)
    ensure(root)
    with open(root / "requirements.txt", "a") as handle:
        handle.write("\n# a new pin\n")
    calls = ensure(root)
    assert len(calls) == 2 and "install" in calls[-1]
