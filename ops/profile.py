"""`python -m ops.profile`: the WhatsApp business profile from business_profile.yml + hours.yml.

    python -m ops.profile check    # compose it and check WhatsApp's limits; sends nothing
    python -m ops.profile show     # what the files give, what WhatsApp shows, the last sync
    python -m ops.profile sync     # send it (WHATSAPP_* settings; records the outcome in Redis)

`make run` syncs at start and the console syncs when a lead saves the hours
(bot/profile/sync.py); this is for a hand edit of business_profile.yml, or to retry.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from bot.profile.compose import ProfileError
from bot.profile.sync import ProfileSync
from connector.cloudapi.errors import SendError
from core.redis_conn import get_redis


def _print_fields(title: str, fields: dict) -> None:
    print(title)
    for name, value in fields.items():
        if name == "messaging_product":
            continue
        text = ", ".join(value) if isinstance(value, list) else str(value)
        print(f"  {name}: " + text.replace("\n", "\n" + " " * (len(name) + 4)))


def main(argv: Sequence[str] | None = None, sync: ProfileSync | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.profile", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("check", "show", "sync"))
    args = parser.parse_args(argv)
    sync = sync or ProfileSync.from_env(get_redis())

    if args.command == "sync":
        result = sync.sync()
        print(result.message, file=sys.stdout if result.ok else sys.stderr)
        return 0 if result.ok else 1
    try:
        fields = sync.desired()
    except ProfileError as exc:
        print("The profile cannot be sent:\n" + "\n".join(f"  {p}" for p in exc.problems), file=sys.stderr)
        return 1
    _print_fields(f"From {sync.profile_path.name} and {sync.hours_path.name}:", fields)
    if args.command == "check":
        print(f"OK: within WhatsApp's limits (description {len(fields['description'])} characters).")
        return 0
    if sync.client is None:
        print(sync.not_configured, file=sys.stderr)
        return 1
    try:
        remote = sync.client.get()
    except SendError as exc:
        print(f"Could not read the profile from WhatsApp: {exc}", file=sys.stderr)
        return 1
    _print_fields("WhatsApp shows:", remote)
    differ = [name for name in fields if name != "profile_picture_handle" and remote.get(name) != fields[name]]
    print("Same as the files." if not differ else f"Differs from the files: {', '.join(differ)} "
          "(`python -m ops.profile sync` sends them).")
    state = sync.state()
    if state.error:
        print(f"Last sync failed at {state.error_at:%Y-%m-%d %H:%M} UTC: {state.error}")
    elif state.synced_at:
        print(f"Last sync: {state.synced_at:%Y-%m-%d %H:%M} UTC.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
