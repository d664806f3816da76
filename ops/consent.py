"""`python -m ops.consent`: look up, import and export the consent register (REDIS_URL).

    python -m ops.consent lookup 5215512345678       # each purpose's state, then the history
    python -m ops.consent import optins.csv           # columns: wa_id,purpose,state,source,at
    python -m ops.consent export [consent.csv]        # the same columns (+ by), stdout by default

An import checks every row first and records nothing if one is wrong (the errors are listed
with their line numbers). `source` may be empty ("import"); `at` is ISO 8601 (no offset = UTC)
or Unix seconds, empty = now. The register keeps the newest change, so an old row never
overrides a newer choice of the customer, and importing the same file twice changes nothing.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import re
import sys
from pathlib import Path
from typing import Iterable, Sequence, TextIO

from connector.policy.consent import UNKNOWN, ConsentRegister, check
from core.redis_conn import get_redis

COLUMNS = ("wa_id", "purpose", "state", "source", "at")
EXPORT_COLUMNS = (*COLUMNS, "by")


class BadRows(ValueError):
    """Rows that cannot be imported, one message per line of the file."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def contact_id(raw: str) -> str:
    """A wa_id as people write it ("+52 1 55 1234 5678") → digits; a BSUID ("US.…") as is."""
    raw = raw.strip()
    if "." in raw:
        return raw
    digits = re.sub(r"[\s+\-()]", "", raw)
    if not digits.isdigit():
        raise ValueError(f"wa_id {raw!r} is neither a phone number nor a WhatsApp user id")
    return digits


def parse_at(raw: str) -> dt.datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    if raw.isdigit():
        return dt.datetime.fromtimestamp(int(raw), dt.timezone.utc)
    at = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def read_rows(handle: TextIO) -> list[dict]:
    """The file's rows, checked: all of them, or BadRows with every problem."""
    reader = csv.DictReader(handle)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise BadRows([f"line 1: missing column(s) {', '.join(missing)} (need {','.join(COLUMNS)})"])
    rows, problems = [], []
    for row in reader:
        line = reader.line_num
        try:
            source = (row["source"] or "").strip() or "import"
            purpose, state = (row["purpose"] or "").strip(), (row["state"] or "").strip()
            check(purpose, state, source)
            rows.append({"contact": contact_id(row["wa_id"] or ""), "purpose": purpose, "state": state,
                         "source": source, "at": parse_at(row["at"] or "")})
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
    if problems:
        raise BadRows(problems)
    return rows


def import_rows(register: ConsentRegister, rows: Iterable[dict], by: str) -> int:
    """Records the rows; the number that became a contact's current state."""
    applied = 0
    for row in rows:
        identity = "|".join(str(row[k]) for k in ("contact", "purpose", "state", "source", "at"))
        ref = "import:" + hashlib.sha256(identity.encode()).hexdigest()[:16]
        applied += register.record(row["contact"], row["purpose"], row["state"], row["source"],
                                   at=row["at"], by=by, ref=ref)
    return applied


def export_rows(register: ConsentRegister, out: TextIO) -> int:
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


def lookup(register: ConsentRegister, contact: str, out: TextIO, history: int = 20) -> None:
    for purpose, consent in register.status(contact).items():
        detail = f" since {consent.at.isoformat()} via {consent.source} ({consent.by})" if consent.at else ""
        out.write(f"{purpose}: {consent.state}{detail}\n")
    changes = register.history(contact, history)
    if changes:
        out.write("history (newest first):\n")
    for change in changes:
        note = "" if change.applied else "  [older than the state then: history only]"
        out.write(f"  {change.at.isoformat() if change.at else '?'}  {change.purpose} {change.state}"
                  f"  via {change.source} ({change.by}){note}\n")


def main(argv: Sequence[str] | None = None, register: ConsentRegister | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.consent", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    find = commands.add_parser("lookup", help="a contact's consent and its history")
    find.add_argument("wa_id")
    load = commands.add_parser("import", help=f"record a CSV ({','.join(COLUMNS)})")
    load.add_argument("file", type=Path)
    load.add_argument("--by", help="who is importing (default: import:<file name>)")
    dump = commands.add_parser("export", help="every recorded state as CSV")
    dump.add_argument("file", type=Path, nargs="?")
    args = parser.parse_args(argv)
    register = register or ConsentRegister(get_redis())

    if args.command == "lookup":
        lookup(register, contact_id(args.wa_id), sys.stdout)
    elif args.command == "import":
        try:
            with args.file.open(newline="", encoding="utf-8-sig") as handle:
                rows = read_rows(handle)
        except BadRows as exc:
            print(f"{args.file}: nothing imported:\n{exc}", file=sys.stderr)
            return 1
        applied = import_rows(register, rows, args.by or f"import:{args.file.name}")
        print(f"{len(rows)} row(s) read, {applied} now a contact's current state "
              f"({len(rows) - applied} older than what was recorded, or already imported)")
    else:
        if args.file:
            with args.file.open("w", newline="", encoding="utf-8") as out:
                count = export_rows(register, out)
            print(f"{count} row(s) written to {args.file}", file=sys.stderr)
        else:
            export_rows(register, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
