"""What each publish and rollback changed, and the data/ behind every history record.

When data/ is in a git repository, a publish is a commit ("Publish <id> by <user>") and so is a
rollback ("Rollback to <id> by <user>"); a record's data is then the commit it names in
`data_commit` (HEAD once it is live: a publish with no data change has `commit` None but still a
`data_commit`). Otherwise, and for the initial record over uncommitted data, the record's files
are kept in Redis (PublishStore.files). A rollback writes the target's files back to data/, so a
restart, which retrains from data/, and the FAQ editor both show what is live.
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
SUFFIXES = (".yml", ".yaml")


@dataclass
class Change:
    diff: str
    commit: Optional[str] = None
    files: list[str] = field(default_factory=list)


def data_files(root: Path) -> dict[str, str]:
    data = root / "data"
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8")
            for p in sorted(data.rglob("*")) if p.is_file() and p.suffix in SUFFIXES}


def _git(cwd: Path, *args: str, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, input=stdin)


def git_top(root: Path) -> Optional[Path]:
    found = _git(root / "data", "rev-parse", "--show-toplevel")
    return Path(found.stdout.strip()) if found.returncode == 0 else None


def _commit(top: Path, data: Path, user: str, message: str) -> Change:
    _git(top, "add", "-A", "--", str(data))
    names = _git(top, "diff", "--cached", "--name-only", "--", str(data)).stdout.split()
    if not names:
        return Change("")
    diff = _git(top, "diff", "--cached", "--", str(data)).stdout
    done = _git(top, "-c", f"user.name={user}", "-c", f"user.email={user}@console.invalid",
                "commit", "-q", "-m", message, "--", str(data))
    if done.returncode != 0:
        raise RuntimeError(f"git commit failed: {done.stderr.strip()}")
    return Change(diff, _git(top, "rev-parse", "HEAD").stdout.strip(), names)


def changed(before: dict, now: dict) -> Change:
    """The unified diff from `before` to `now` (both {path: text}) and the paths it touches."""
    lines, files = [], []
    for name in sorted(set(before) | set(now)):
        old, new = before.get(name, ""), now.get(name, "")
        if old != new:
            files.append(name)
            lines.extend(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                              f"a/{name}", f"b/{name}"))
    return Change("".join(lines), None, files)


def kept(root: Path) -> tuple[Optional[str], Optional[dict]]:
    """How a record keeps data/ as it is now: (its commit, None) when data/ is committed in git,
    (None, its files) otherwise; the files then go to PublishStore.add_history."""
    if git_top(root) and not _git(root, "status", "--porcelain", "--", "data").stdout.strip():
        return _git(root, "rev-parse", "HEAD").stdout.strip(), None
    return None, data_files(root)


def files_of(root: Path, store: PublishStore, record: Optional[dict]) -> Optional[dict]:
    """data/ as `record` made it live ({path: text}), or None when it was not kept."""
    if record is None:
        return None
    commit = record.get("data_commit")
    if not commit:
        return store.files(record["id"])
    # Paths relative to the project, as data_files() names them, whatever the repository's top.
    listed = _git(root, "ls-tree", "-r", "-z", commit, "--", "data")
    if listed.returncode != 0:
        return None
    entries = [(line.split()[2], line.split("\t", 1)[1]) for line in listed.stdout.split("\0") if line]
    entries = [(sha, name) for sha, name in entries if Path(name).suffix in SUFFIXES]
    if not entries:
        return {}
    # One process for every file: `cat-file --batch` answers "<sha> blob <size>\n<content>\n".
    out = subprocess.run(["git", "-C", str(root), "cat-file", "--batch"], capture_output=True,
                         input="".join(f"{sha}\n" for sha, _ in entries).encode()).stdout
    files, at = {}, 0
    for _sha, name in entries:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        files[name] = out[header_end + 1:header_end + 1 + size].decode("utf-8")
        at = header_end + 1 + size + 1
    return files


def unpublished(root: Path, store: PublishStore) -> Optional[list[str]]:
    """The data/ files that differ from what is live (saved edits awaiting a publish); None when
    nothing live has its files kept (before the first publish)."""
    live = files_of(root, store, store.live())
    return None if live is None else changed(live, data_files(root)).files


def record_change(root: Path, store: PublishStore, user: str, publish_id: str) -> Change:
    """The change this publish makes live, against the live record's data."""
    top = git_top(root)
    if top:
        return _commit(top, root / "data", user, f"Publish {publish_id} by {user}")
    before = files_of(root, store, store.live())
    if before is None:
        return Change(FIRST_PUBLISH, None, sorted(data_files(root)))
    return changed(before, data_files(root))


def restore(root: Path, files: dict, user: str, target_id: str) -> Change:
    """Writes data/ back to `files` (a record's): the change is what the rollback undid, saved
    edits that were never published included (they are discarded, and kept in this diff)."""
    before = data_files(root)
    for name in set(before) - set(files):
        (root / name).unlink()
    for name, text in files.items():
        if before.get(name) != text:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
    change = changed(before, files)
    top = git_top(root)
    if top:
        change.commit = _commit(top, root / "data", user, f"Rollback to {target_id} by {user}").commit
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
