"""`python -m ops.apikeys`: the alerts API's clients (console/api/keys.py), in REDIS_URL.

    python -m ops.apikeys create shop     # prints the key once; keep it in the client's secrets
    python -m ops.apikeys list
    python -m ops.apikeys revoke shop     # its key is refused from now on

`create` for an existing name replaces its key (the old one stops working).
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from core.redis_conn import get_redis
from console.api.keys import ApiKeys


def main(argv: Sequence[str] | None = None, keys: ApiKeys | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.apikeys", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("create", help="a new key for a client (shown once)").add_argument("name")
    commands.add_parser("list", help="the clients, with when made and revoked")
    commands.add_parser("revoke", help="refuse a client's key from now on").add_argument("name")
    args = parser.parse_args(argv)
    keys = keys or ApiKeys(get_redis())

    if args.command == "create":
        try:
            key = keys.create(args.name)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"API key for {args.name} (shown once; only its hash is kept):\n{key}")
    elif args.command == "list":
        for client in keys.all():
            state = f"revoked {client.revoked_at}" if client.revoked_at else "active"
            print(f"{client.name:<24} created {client.created_at}  {state}")
    elif not keys.revoke(args.name):
        print(f"no active client {args.name}", file=sys.stderr)
        return 1
    else:
        print(f"{args.name}: key revoked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
