"""hours.yml read and written for the editor: ruamel round-trip, a version per read, atomic saves.

The lead edits values; everything else in the file (comments, key order, quoting, the column
alignment of `monday:    [...]`) stays as it was, so the diff of a save is only the edit.
ruamel keeps comments and order but not the spaces after a key's colon; `_keep_layout` puts
back the original line wherever a line's meaning did not change.
"""
from __future__ import annotations

import base64
import difflib
import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from bot.hours import BusinessHours
from bot.hours.schedule import DAY_ALIASES, hours_path

from .hours_form import DAYS, HoursForm, merge, same_day_rules, same_special

_KEY_GAP = re.compile(r"^(\s*(?:- )?[^\s#'\"][^:#]*:)(\s+)(\S.*)$")


class StaleVersion(Exception):
    """Someone saved the file after this edit was started: nothing was written."""

    def __init__(self, current: "HoursSnapshot", merged: HoursForm, merged_text: str) -> None:
        super().__init__("hours.yml changed since you opened it")
        # ``merged``: the file as saved now, with the fields this edit changed taken from it.
        self.current, self.merged, self.merged_text = current, merged, merged_text


@dataclass(frozen=True)
class HoursSnapshot:
    text: str

    @property
    def version(self) -> str:
        return version_of(self.text)

    @property
    def token(self) -> str:
        """The text the page was built from, carried by the form so a stale save can be merged."""
        return base64.urlsafe_b64encode(self.text.encode("utf-8")).decode("ascii")

    @classmethod
    def from_token(cls, token: str) -> "HoursSnapshot":
        return cls(base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8"))

    @property
    def hours(self) -> BusinessHours:
        return BusinessHours.from_text(self.text)

    def special_keys(self) -> list[str]:
        special = _yaml().load(self.text).get("special") or {}
        return [_date_key(key) for key in special]

    def form(self) -> HoursForm:
        return HoursForm.from_hours(self.hours, self.special_keys())


class HoursDocument:
    """The hours file the bot reads (BUSINESS_HOURS_FILE), as the editor sees it."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = hours_path(path)

    def read(self) -> HoursSnapshot:
        return HoursSnapshot(self.path.read_text(encoding="utf-8"))

    def save(self, form: HoursForm, base: HoursSnapshot) -> HoursSnapshot:
        """Write ``form`` (already validated) over the file, if the file is still ``base``.

        The check and the write are not one atomic step: two saves in the same millisecond could
        both pass. Leads save by hand, seconds apart; the window is accepted, not hidden.
        """
        current = self.read()
        if current.version != base.version:
            merged = merge(base.form(), form, current.form())
            raise StaleVersion(current, merged, apply(current.text, merged))
        text = apply(current.text, form)
        BusinessHours.from_text(text, source=str(self.path))  # what the bot will read back
        if text != current.text:
            _write_atomically(self.path, text)
        return HoursSnapshot(text)


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def apply(text: str, form: HoursForm) -> str:
    """``text`` with the form's values, changing only the entries whose meaning changed."""
    doc = _yaml().load(text)
    if str(doc.get("timezone") or "") != form.timezone:
        doc["timezone"] = form.timezone
    _apply_weekly(doc, form)
    _apply_special(doc, form)
    out = io.StringIO()
    _yaml().dump(doc, out)
    return _keep_layout(text, out.getvalue())


def _apply_weekly(doc: CommentedMap, form: HoursForm) -> None:
    if doc.get("weekly") is None:
        doc["weekly"] = CommentedMap()
    weekly = doc["weekly"]
    keys = {DAY_ALIASES[str(key).strip().lower()]: key for key in weekly}
    for name in DAYS:
        weekday, value = DAY_ALIASES[name], form.day_value(name)
        key = keys.get(weekday)
        old = weekly[key] if key is not None else None
        if same_day_rules(old, value):
            continue
        weekly[key if key is not None else name] = _node(value)


def _apply_special(doc: CommentedMap, form: HoursForm) -> None:
    wanted = {row.date: form.special_value(row) for row in form.special}
    if doc.get("special") is None:
        if not wanted:
            return
        doc["special"] = CommentedMap()
    special = doc["special"]
    keys = {_date_key(key): key for key in special}
    for date, key in keys.items():
        if date not in wanted:
            del special[key]
    for date, value in wanted.items():
        key = keys.get(date)
        if key is not None and same_special(special[key], value):
            continue
        node = CommentedMap()
        for field, item in value.items():
            node[field] = _node(item)
        node.fa.set_flow_style()
        special[key if key is not None else DoubleQuotedScalarString(date)] = node


def _node(value: Any) -> Any:
    """A day's shifts as the file writes them: `closed`, or ["10:00-14:00", ...] on one line."""
    if isinstance(value, list):
        seq = CommentedSeq(DoubleQuotedScalarString(item) for item in value)
        seq.fa.set_flow_style()
        return seq
    return value


def _date_key(key: Any) -> str:
    return key.isoformat() if hasattr(key, "isoformat") else str(key)


def _keep_layout(old: str, new: str) -> str:
    """``new``, but with ``old``'s line wherever the two differ only in the gap after a colon."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, [_squeeze(line) for line in old_lines],
                                      [_squeeze(line) for line in new_lines], autojunk=False)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(old_lines[i1:i2])
        elif tag == "replace" and i2 - i1 == j2 - j1:
            # An edited entry keeps its line's alignment: `friday:    [...]`.
            out.extend(_realign(before, after) for before, after in zip(old_lines[i1:i2], new_lines[j1:j2]))
        else:
            out.extend(new_lines[j1:j2])
    return "".join(out)


def _squeeze(line: str) -> str:
    match = _KEY_GAP.match(line.rstrip("\n"))
    return f"{match.group(1)} {match.group(3)}" if match else line.rstrip("\n")


def _realign(before: str, after: str) -> str:
    old, new = _KEY_GAP.match(before.rstrip("\n")), _KEY_GAP.match(after.rstrip("\n"))
    if old and new and old.group(1) == new.group(1):
        return f"{new.group(1)}{old.group(2)}{new.group(3)}\n"
    return after


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the lead did not touch
    return yaml


def _write_atomically(path: Path, text: str) -> None:
    # Readers (the action server's HoursDocument) see the old file or the new one, never half.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
