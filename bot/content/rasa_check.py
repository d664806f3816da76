"""`rasa data validate`, run as a subprocess, with its output reduced to the problems that matter.

Rasa prints warnings that are expected in this project (retrieval intents split over files,
responses only actions send); those are filtered so `make validate` shows what a person must fix.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterable

from bot.content.catalog import ROOT
from bot.content.problems import Problem, Source


# Intents only buttons and non-text messages produce: Rasa warns they have no training examples.
PAYLOAD_ONLY_INTENTS = (
    "faq_pick", "back_to_bot", "media_received", "shared_location", "shared_contacts",
    "order_received", "unsupported_message",
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")
WARNING = re.compile(r"UserWarning: (.*)")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")
DUPLICATES = re.compile(r"The following duplicated (\w+) have been found across multiple domain files: (.*)")
# Rasa needs `faq` in domain.yml (rules use it) and adds `faq`/`utter_faq` again from the
# retrieval intents in the data, then warns that the two copies are duplicates.
RETRIEVAL_NAMES = {"faq", "utter_faq"}


def warnings_in(lines: list[str]) -> list[list[str]]:
    """Each Rasa warning as its lines: a warning runs until its "More info" line or the next log line."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        match = WARNING.search(line)
        if match:
            current = [match.group(1).strip()]
            found.append(current)
        elif current is not None:
            if not line or line.startswith("More info") or LOG_LINE.match(line):
                current = None
            else:
                current.append(line)
    return found


# `dispatcher.utter_message(response="utter_x")` in a custom action, or
# `response=f"utter_faq/{key}"`: every response of the retrieval family `utter_faq`.
ACTION_RESPONSE = re.compile(r'response\s*=\s*(?:["\'](utter_[\w/]+)["\']|f["\'](utter_\w+)/\{)')
UNUSED_UTTERANCE = re.compile(r"The utterance '([^']+)' is not used in any story or rule")


def responses_used_by_actions(root: Path) -> set[str]:
    """Responses (and retrieval families) that custom actions send: Rasa cannot see them, so it
    calls them unused."""
    from bot.hours.replies import FOLLOW_UP_RESPONSES

    found: set[str] = set()
    for path in sorted((root / "actions").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for name, family in ACTION_RESPONSE.findall(source):
            found.add(name or family)
        if "after_faq(" in source:  # an action sends what follows an FAQ answer
            found.update(FOLLOW_UP_RESPONSES)
    return found


def check_action_responses(sources: Iterable[Source], root: Path) -> list[Problem]:
    """A response an action sends must exist, or the customer gets silence."""
    defined = {str(name) for source in sources for name in (source.content.get("responses") or {})}
    defined |= {name.split("/", 1)[0] for name in defined if "/" in name}  # retrieval families
    return [
        Problem("actions/", None, f"an action sends '{name}', which no domain or data file defines")
        for name in sorted(responses_used_by_actions(root) - defined)
    ]


def expected_warning_line(line: str, action_responses: frozenset[str] = frozenset()) -> bool:
    if not line:
        return True
    unused = UNUSED_UTTERANCE.search(line)
    if unused:
        return unused.group(1) in action_responses
    duplicates = DUPLICATES.search(line)
    if duplicates:
        return {name.strip() for name in duplicates.group(2).split(",")} <= RETRIEVAL_NAMES
    return any(
        f"The intent '{intent}' is listed in the domain file, but is not found in the NLU training data" in line
        for intent in PAYLOAD_ONLY_INTENTS
    )


def parse_rasa_output(output: str, returncode: int, action_responses: frozenset[str] = frozenset()) -> list[Problem]:
    lines = [ANSI.sub("", line).strip() for line in output.splitlines()]
    problems = [
        Problem("rasa data validate", None, " ".join(warning))
        for warning in warnings_in(lines)
        if not all(expected_warning_line(line, action_responses) for line in warning)
    ]
    if returncode != 0:
        errors = [line for line in lines if " ERROR " in line or "Error" in line.split(":")[0]]
        detail = "; ".join(errors[-5:]) or "; ".join(line for line in lines[-5:] if line)
        problems.append(Problem("rasa data validate", None, f"failed (exit {returncode}): {detail}"))
    return problems


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def check_rasa(root: Path) -> list[Problem]:
    """Rasa's own validation (domain, data, rules), with its warnings counted as problems."""
    command = [sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings",
               "--domain", "domain.yml", "--data", "data"]
    if (root / "config.yml").exists():
        command += ["--config", "config.yml"]
    result = subprocess.run(command, cwd=root, env=rasa_env(), capture_output=True, text=True, timeout=900)
    from bot.csat import RESPONSES as CSAT_RESPONSES  # sent by the console and the connector

    return parse_rasa_output(result.stdout + "\n" + result.stderr, result.returncode,
                             frozenset(responses_used_by_actions(root) | set(CSAT_RESPONSES)))
