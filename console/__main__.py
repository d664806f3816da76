"""`python -m console` serves the console; `python -m console create-user NAME --role agent|lead`."""
from __future__ import annotations

import argparse
import getpass
import sys

from . import config as config_module


def _create_user(args) -> int:
    from core.redis_conn import get_redis

    from .auth.users import UserStore, generate_password

    password = args.password_stdin and sys.stdin.readline().rstrip("\n")
    generated = False
    if not password:
        if sys.stdin.isatty() and not args.generate:
            password = getpass.getpass(f"Password for {args.name} (empty = generate one): ")
            if password and password != getpass.getpass("Repeat it: "):
                print("Passwords do not match.", file=sys.stderr)
                return 1
        if not password:
            password, generated = generate_password(), True
    try:
        user = UserStore(get_redis()).create(args.name, args.role, password, replace=args.replace)
    except ValueError as exc:
        print(f"Could not create the user: {exc}", file=sys.stderr)
        return 1
    print(f"User {user.name} ({user.role}) saved.")
    if generated:
        print(f"Password: {password}")
    return 0


def _serve() -> int:
    from werkzeug.serving import run_simple

    from .app import serving_app

    app = serving_app()
    port = config_module.port()
    # Threaded: every open page holds one SSE stream; the streams end and reconnect every few minutes.
    run_simple(config_module.host(), port, app, threaded=True, use_reloader=False, use_debugger=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console", description="Agent console")
    sub = parser.add_subparsers(dest="command")
    create = sub.add_parser("create-user", help="create (or with --replace, reset) a console user")
    create.add_argument("name")
    create.add_argument("--role", choices=("agent", "lead"), default="agent")
    create.add_argument("--replace", action="store_true", help="overwrite an existing user (new password)")
    create.add_argument("--generate", action="store_true", help="generate a random password and print it")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    args = parser.parse_args(argv)
    if args.command == "create-user":
        return _create_user(args)
    return _serve()


if __name__ == "__main__":
    sys.exit(main())
