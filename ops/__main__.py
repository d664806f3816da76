"""`python -m ops <command> …`: the operators' commands, pointed at what `make run` runs.

Each command reads REDIS_URL (and the alerts command RASA_URL / RASA_TOKEN) from the
environment. Beside a `make run` on this machine they are the launcher's own: the embedded
Redis with its password and Rasa's token, both in var/local-secrets.json. Anything already
set in the environment wins, so the same commands work against a production Redis.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Mapping, MutableMapping, Sequence

# Before the launcher's import pulls in Rasa's SQL broker, whose SQLAlchemy notice no operator
# can act on (make run's processes get the same setting from the Makefile).
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from core.redis_conn import DEFAULT_EMBEDDED_PORT, EmbeddedRedis  # noqa: E402
from ops.launcher import RASA_PORT, emulator_graph  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "alerts": "send a template to contacts now or later; a send's state; what waits",
    "apikeys": "the alerts API's clients and their keys",
    "consent": "look up, import and export the consent register",
    "templates": "the template register: list, show, load templates.yml, sync from Meta",
    "account": "quality rating, messaging tier, resume marketing",
    "profile": "the WhatsApp business profile: check, show, sync",
}


def local_environment(env: MutableMapping[str, str], secrets_file: Path = ROOT / "var" / "local-secrets.json") -> None:
    """Fill in what `make run`'s launcher gave its processes, where the caller set nothing."""
    if not secrets_file.exists():
        return
    local: Mapping[str, str] = json.loads(secrets_file.read_text())
    if not env.get("REDIS_URL") and local.get("REDIS_PASSWORD"):
        embedded = EmbeddedRedis(ROOT / "var" / "redis", port=DEFAULT_EMBEDDED_PORT, password=local["REDIS_PASSWORD"])
        env["REDIS_URL"] = embedded.url
    env.setdefault("RASA_URL", f"http://127.0.0.1:{RASA_PORT}")
    if local.get("RASA_TOKEN"):
        env.setdefault("RASA_TOKEN", local["RASA_TOKEN"])
    if not env.get("WHATSAPP_ACCESS_TOKEN"):  # emulator mode, as the launcher decides it
        emulator_graph(env, local)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        width = max(map(len, COMMANDS))
        print("usage: python -m ops <command> [--help]\n")
        for name, what in COMMANDS.items():
            print(f"  {name:<{width}}  {what}")
        return 0 if argv[:1] in ([], ["--help"], ["-h"]) else 1
    local_environment(os.environ)
    return importlib.import_module(f"ops.{argv[0]}").main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
