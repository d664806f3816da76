"""The consent register's CSV: one format for the CLI (ops/consent.py) and the console's
import and export (console/workspace/consent_views.py).

    wa_id,purpose,state,source,at        (export adds `by`)

`wa_id` as people write it ("+52 1 55 1234 5678") or a BSUID ("US.…"); `source` may be empty
("import"); `at` is ISO 8601 (no offset = UTC) or Unix seconds, empty = now. Every row is
checked on its own and a bad one is reported with its line number, so a caller decides what a
bad row costs: the CLI imports nothing, the console shows the rejected rows beside the preview.

An imported row's ref is a hash of what it says, so importing the same file twice is a
redelivery the register ignores; the register keeps the newest change, so an old row never
overrides a newer choice of the customer (it still goes into the history).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from typing import Iterable, TextIO

from connector.policy import contacts
from connector.policy.consent import UNKNOWN, ConsentRegister, check

COLUMNS = ("wa_id", "purpose", "state", "source", "at")
EXPORT_COLUMNS = (*COLUMNS, "by")


@dataclass(frozen=True)
class Row:
    line: int
    contact: str
    purpose: str
    state: str
    source: str
    at: dt.datetime | None

    @property
    def ref(self) -> str:
        identity = "|".join(str(v) for v in (self.contact, self.purpose, self.state, self.source, self.at))
        return "import:" + hashlib.sha256(identity.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Rejected:
    line: int
    raw: str        # the row as it was in the file, so the person can find and fix it
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    read: int
    applied: int
    rejected: int = 0

    def text(self) -> str:
        text = (f"{self.read} row(s) read, {self.applied} now a contact's current state "
                f"({self.read - self.applied} older than what was recorded, or already imported)")
        return text + (f"; {self.rejected} rejected row(s) not imported" if self.rejected else "")


def contact_id(raw: str) -> str:
    """A wa_id as people write it, or a BSUID (connector/policy/contacts.py owns the rule)."""
    try:
        return contacts.normalize(raw)
    except ValueError as exc:
        raise ValueError(f"wa_id: {exc}") from None


def parse_at(raw: str) -> dt.datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    if raw.isdigit():
        return dt.datetime.fromtimestamp(int(raw), dt.timezone.utc)
    try:
        at = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"at {raw!r} is neither ISO 8601 nor Unix seconds") from None
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def read(handle: TextIO) -> Parsed:
    """Every row of the file, each either a Row or a Rejected with its line and reason."""
    text = handle.read()
    reader = csv.DictReader(io.StringIO(text))
    lines = text.splitlines()
    parsed = Parsed()
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        parsed.rejected.append(Rejected(1, lines[0] if lines else "",
                                        f"missing column(s) {', '.join(missing)} (need {','.join(COLUMNS)})"))
        return parsed
    for row in reader:
        line = reader.line_num
        try:
            source = (row["source"] or "").strip() or "import"
            purpose, state = (row["purpose"] or "").strip(), (row["state"] or "").strip()
            check(purpose, state, source)
            parsed.rows.append(Row(line, contact_id(row["wa_id"] or ""), purpose, state, source,
                                   parse_at(row["at"] or "")))
        except ValueError as exc:
            parsed.rejected.append(Rejected(line, lines[line - 1] if line <= len(lines) else "", str(exc)))
    return parsed


def apply(register: ConsentRegister, rows: Iterable[Row], by: str, rejected: int = 0) -> Summary:
    """Records the rows; how many became a contact's current state."""
    rows = list(rows)
    applied = sum(register.record(row.contact, row.purpose, row.state, row.source, at=row.at,
                                  by=by, ref=row.ref) for row in rows)
    return Summary(len(rows), applied, rejected)


# What a row would do, for the console's preview (labels a person reads).
NEW, CHANGE, SAME, OLDER, DONE = ("new", "changes the state", "same state, newer date",
                                  "older than what is recorded (history only)", "already imported")


@dataclass(frozen=True)
class Effect:
    row: Row
    before: str      # the purpose's state now
    effect: str      # one of NEW, CHANGE, SAME, OLDER, DONE

    @property
    def changes(self) -> bool:
        return self.effect in (NEW, CHANGE)


def preview(register: ConsentRegister, rows: Iterable[Row]) -> list[Effect]:
    """What recording the rows would do, read from the register without writing. It follows
    ConsentRegister.record's rules (same ref = redelivery; an older change is history only);
    rows of one file are judged against the register as it is, not against each other."""
    effects, states = [], {}
    for row in rows:
        if row.contact not in states:
            states[row.contact] = register.status(row.contact)
        current = states[row.contact][row.purpose]
        if current.ref == row.ref:
            effect = DONE
        elif current.state == UNKNOWN:
            effect = NEW
        elif row.at is not None and current.at is not None and current.at > row.at:
            effect = OLDER
        else:
            effect = SAME if current.state == row.state else CHANGE
        effects.append(Effect(row, current.state, effect))
    return effects


def export(register: ConsentRegister, out: TextIO) -> int:
    """Every recorded state (not the unknown ones) as CSV; the number of rows written."""
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for contact in register.contacts():
        for consent in register.status(contact).values():
            if consent.state == UNKNOWN:
                continue
            writer.writerow([contact, consent.purpose, consent.state, consent.source,
                             consent.at.isoformat() if consent.at else "", consent.by])
            count += 1
    return count

