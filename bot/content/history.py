"""What a publish changed, recorded: a git commit when data/ is in a git repository, and the
diff against the last publish's snapshot (kept in Redis by PublishStore) otherwise.
"""
from __future__ import annotations

import difflib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from bot.content.catalog import load_file
from bot.content.publish_store import PublishStore

FIRST_PUBLISH = "(first publish: no earlier record to compare with)"


@dataclass
class Change:
    diff: str
    commit: Optional[str] = None
    files: list[str] = field(default_factory=list)


def data_files(root: Path) -> dict[str, str]:
    data = root / "data"
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8")
            for p in sorted(data.rglob("*")) if p.is_file() and p.suffix in (".yml", ".yaml")}


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True)


def git_top(root: Path) -> Optional[Path]:
    found = _git(root / "data", "rev-parse", "--show-toplevel")
    return Path(found.stdout.strip()) if found.returncode == 0 else None


def _commit(top: Path, data: Path, user: str, publish_id: str) -> Change:
    _git(top, "add", "-A", "--", str(data))
    names = _git(top, "diff", "--cached", "--name-only", "--", str(data)).stdout.split()
    if not names:
        return Change("")
    diff = _git(top, "diff", "--cached", "--", str(data)).stdout
    done = _git(top, "-c", f"user.name={user}", "-c", f"user.email={user}@console.invalid",
                "commit", "-q", "-m", f"Publish {publish_id} by {user}", "--", str(data))
    if done.returncode != 0:
        raise RuntimeError(f"git commit failed: {done.stderr.strip()}")
    return Change(diff, _git(top, "rev-parse", "HEAD").stdout.strip(), names)


def _against_snapshot(before: Optional[dict], now: dict) -> Change:
    if before is None:
        return Change(FIRST_PUBLISH, None, sorted(now))
    lines, files = [], []
    for name in sorted(set(before) | set(now)):
        old, new = before.get(name, ""), now.get(name, "")
        if old != new:
            files.append(name)
            lines.extend(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                              f"a/{name}", f"b/{name}"))
    return Change("".join(lines), None, files)


def record_change(root: Path, store: PublishStore, user: str, publish_id: str) -> Change:
    """The change this publish makes live; afterwards it is the base of the next one's diff."""
    now = data_files(root)
    top = git_top(root)
    change = _commit(top, root / "data", user, publish_id) if top else _against_snapshot(store.snapshot(), now)
    store.set_snapshot(now)
    return change


def sample_question(root: Path) -> str:
    """A question for the first answer: the first example of the FAQ edited last."""
    files = sorted((root / "data" / "faq").glob("*.yml"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in files:
        for faq in load_file(path):
            for examples in faq.examples.values():
                if examples:
                    return examples[0]
    return "hola"
