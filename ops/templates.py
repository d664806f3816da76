"""`python -m ops.templates`: the template register (REDIS_URL) from the command line.

    python -m ops.templates list                 # every template: status, quality, category
    python -m ops.templates show order_confirmation   # each language: components, parameters
    python -m ops.templates load [templates.yml]  # the file into the register (as at start)
    python -m ops.templates sync                  # Meta's list (all pages) into the register

`sync` reads the WhatsApp settings from the environment (WHATSAPP_ACCESS_TOKEN,
WHATSAPP_BUSINESS_ACCOUNT_ID, WHATSAPP_GRAPH_URL …, connector/cloudapi/config.py); against the
local emulator the same settings point at it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence, TextIO

import httpx

from connector.cloudapi.config import ConfigError, GraphTarget, WhatsAppConfig
from connector.cloudapi.errors import SendError
from connector.cloudapi.template_list import fetch_templates
from connector.policy.templates import TEMPLATES_FILE, Template, TemplateError, TemplateRegister
from core.redis_conn import get_redis


def list_templates(register: TemplateRegister, out: TextIO) -> int:
    templates = register.all()
    for t in templates:
        params = ", ".join(f"{p.name}:{p.type}" for p in t.params) or "no parameters"
        out.write(f"{t.name:<24} {t.language:<6} {t.category:<14} {t.status:<9} {t.quality:<8} {params}\n")
    out.write(f"{len({t.name for t in templates})} template(s), {len(templates)} translation(s)\n")
    return 0


def show(register: TemplateRegister, name: str, out: TextIO) -> int:
    translations = [t for t in register.all() if t.name == name]
    if not translations:
        out.write(f"No template named {name!r} in the register.\n")
        return 1
    for t in translations:
        _show_one(t, out)
    return 0


def _show_one(t: Template, out: TextIO) -> None:
    reason = f" ({t.reason})" if t.reason else ""
    out.write(f"{t.name} · {t.language} · {t.category} · {t.status}{reason} · quality {t.quality}"
              f"{' · id ' + t.id if t.id else ''}\n")
    for c in t.components:
        if c.type == "BUTTONS":
            for b in c.buttons:
                out.write(f"  button {b.type.lower()}: {b.text}{' → ' + b.payload if b.payload else ''}\n")
        elif c.text or c.format:
            out.write(f"  {c.type.lower()}: {c.text or c.format}\n")
    for i, p in enumerate(t.params, 1):
        out.write(f"  param {i}: {p.name} ({p.type}){' e.g. ' + p.example if p.example else ''}\n")


def sync(register: TemplateRegister, target: GraphTarget, out: TextIO,
         client: httpx.Client | None = None) -> int:
    items = fetch_templates(target, client)
    summary = register.sync(items)
    out.write(f"{len(items)} template translation(s) at Meta: {len(summary['added'])} added, "
              f"{len(summary['updated'])} updated, {len(summary['removed'])} removed\n")
    for label in ("added", "updated", "removed"):
        for key in summary[label]:
            out.write(f"  {label}: {key}\n")
    for key, why in summary["skipped"]:
        out.write(f"  skipped {key}: {why}\n")
    return 0


def main(argv: Sequence[str] | None = None, register: TemplateRegister | None = None,
         target: GraphTarget | None = None, client: httpx.Client | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.templates", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every template with its status and quality")
    one = commands.add_parser("show", help="one template in each of its languages")
    one.add_argument("name")
    load = commands.add_parser("load", help="load a templates file into the register")
    load.add_argument("file", type=Path, nargs="?", default=TEMPLATES_FILE)
    commands.add_parser("sync", help="take Meta's template list (statuses, quality) into the register")
    args = parser.parse_args(argv)
    register = register or TemplateRegister(get_redis())
    try:
        if args.command == "list":
            return list_templates(register, sys.stdout)
        if args.command == "show":
            return show(register, args.name, sys.stdout)
        if args.command == "load":
            print(f"{register.load_file(args.file)} template translation(s) loaded from {args.file}")
            return 0
        return sync(register, target or WhatsAppConfig.load(), sys.stdout, client)
    except (TemplateError, ConfigError) as exc:
        print(f"Nothing changed: {exc}", file=sys.stderr)
    except SendError as exc:
        print(f"Meta's template list could not be read: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
