"""`python -m ops.consent`: look up, import and export the consent register (REDIS_URL).

    python -m ops.consent lookup 5215512345678       # each purpose's state, then the history
    python -m ops.consent import optins.csv           # columns: wa_id,purpose,state,source,at
    python -m ops.consent export [consent.csv]        # the same columns (+ by), stdout by default

The format and its rules are connector/policy/consent_csv.py's (the console imports the same
files). Here an import checks every row first and records nothing if one is wrong (the errors
are listed with their line numbers).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence, TextIO

from connector.policy import consent_csv
from connector.policy.consent import ConsentRegister
from core.redis_conn import get_redis


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
    load = commands.add_parser("import", help=f"record a CSV ({','.join(consent_csv.COLUMNS)})")
    load.add_argument("file", type=Path)
    load.add_argument("--by", help="who is importing (default: import:<file name>)")
    dump = commands.add_parser("export", help="every recorded state as CSV")
    dump.add_argument("file", type=Path, nargs="?")
    args = parser.parse_args(argv)
    register = register or ConsentRegister(get_redis())

    if args.command == "lookup":
        lookup(register, consent_csv.contact_id(args.wa_id), sys.stdout)
    elif args.command == "import":
        with args.file.open(newline="", encoding="utf-8-sig") as handle:
            parsed = consent_csv.read(handle)
        if parsed.rejected:
            problems = "\n".join(str(r) for r in parsed.rejected)
            print(f"{args.file}: nothing imported:\n{problems}", file=sys.stderr)
            return 1
        print(consent_csv.apply(register, parsed.rows, args.by or f"import:{args.file.name}").text())
    else:
        if args.file:
            with args.file.open("w", newline="", encoding="utf-8") as out:
                count = consent_csv.export(register, out)
            print(f"{count} row(s) written to {args.file}", file=sys.stderr)
        else:
            consent_csv.export(register, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
