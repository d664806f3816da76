"""`python -m ops.alerts`: send a template to contacts now or later, and follow a send — the same
engine as the alerts API (connector/outreach), not over HTTP. REDIS_URL (and RASA_URL, RASA_TOKEN
for the customer's language) from the environment; `make run`'s worker sends what is due.

    python -m ops.alerts send --template order_confirmation --to 5215512345678 \\
        --param A-1042 --param María --param A-1042 --param "1250.00 MXN" [--language es_MX] \\
        [--at 2026-05-01T09:00:00-06:00] [--key order-A-1042]
    python -m ops.alerts status msg_…
    python -m ops.alerts cancel msg_…
    python -m ops.alerts queue              # what waits: scheduled and deferred sends, with why

`--to` may repeat (the same parameters for each). `--key` makes a repeated command safe: the
same key and command give back the first one's sends instead of new ones. Exit status: 0 all
scheduled, 2 some refused (no consent: shown with the reason), 1 the request was wrong.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import uuid
from typing import Sequence

from core.rasa_api import RasaHttp
from core.redis_conn import get_redis
from connector.outreach.engine import Contact, Outreach, Request, RequestError
from connector.outreach.store import REFUSED, IdempotencyConflict

CLIENT = "cli"


def _time(raw: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not an ISO 8601 time such as 2026-05-01T09:00:00-06:00")


def engine_from_env() -> Outreach:
    rasa_url = os.environ.get("RASA_URL")
    rasa = RasaHttp(rasa_url, os.environ.get("RASA_TOKEN", "")) if rasa_url else None
    return Outreach(get_redis(), rasa=rasa)


def main(argv: Sequence[str] | None = None, outreach: Outreach | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.alerts", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("send", help="send a template to contacts, now or at --at")
    send.add_argument("--template", required=True)
    send.add_argument("--to", action="append", required=True, help="a WhatsApp number; may repeat")
    send.add_argument("--param", action="append", default=[], help="the template's parameters, in order")
    send.add_argument("--language", help="e.g. es_MX (default: the customer's, from the conversation)")
    send.add_argument("--at", type=_time, help="when, ISO 8601 with a time zone (default: now)")
    send.add_argument("--key", help="idempotency key (default: a new one, printed)")
    for name in ("status", "cancel"):
        commands.add_parser(name, help=f"{name} a send by its id").add_argument("id")
    commands.add_parser("queue", help="scheduled and deferred sends, soonest first")
    args = parser.parse_args(argv)
    outreach = outreach or engine_from_env()

    if args.command == "queue":
        for send in outreach.store.waiting():
            reason = f"  {send.reason}" if send.reason else ""
            print(f"{send.due.isoformat()}  {send.id}  {send.to}  {send.template}  {send.state}{reason}")
        return 0
    if args.command == "status":
        status = outreach.status(args.id)
        if status is None:
            print(f"no send {args.id}", file=sys.stderr)
            return 1
        print(json.dumps(status, indent=2, ensure_ascii=False))
        return 0
    if args.command == "cancel":
        if outreach.cancel(args.id, by=f"{CLIENT}:{os.environ.get('USER', '?')}"):
            print(f"{args.id} cancelled")
            return 0
        print(f"{args.id} cannot be cancelled (unknown, or already sending or done)", file=sys.stderr)
        return 1

    key = args.key or f"cli-{uuid.uuid4().hex}"
    request = Request(args.template, [Contact(to, list(args.param)) for to in args.to], key, CLIENT,
                      language=args.language, send_at=args.at)
    try:
        result = outreach.submit(request)
    except (RequestError, IdempotencyConflict) as exc:
        problems = getattr(exc, "problems", [str(exc)])
        print("nothing sent:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"batch {result.batch} (key {key}){' — already submitted earlier' if result.existing else ''}")
    for send in result.sends:
        when = f" for {send.due.isoformat()}" if send.state != REFUSED else ""
        reason = f": {send.reason}" if send.reason else ""
        print(f"  {send.id}  {send.to}  {send.template} ({send.language})  {send.state}{when}{reason}")
    return 2 if any(s.state == REFUSED for s in result.sends) else 0


if __name__ == "__main__":
    sys.exit(main())
