"""business_profile.yml + hours.yml → the fields of WhatsApp's business profile.

The file (path from BUSINESS_PROFILE_FILE, default business_profile.yml at the top of the
repository) holds about, address, description, email, websites, vertical and optionally
profile_picture_handle, plus `language`, the language of the hours. The description says
`{hours_week}` where the opening hours go; they are filled in by bot/hours/wording.py's
`weekly_lines`, the very function that fills `{hours_week}` in the bot's opening-hours answer,
so the hours the profile shows and the ones the bot states cannot disagree. (Special dates are
left to the bot's answer: they come and go by the day, and the profile is only synced when a
file changes.)

Every problem is reported at once, with the file's name, against WhatsApp's limits from their
owner (connector/cloudapi/limits.py), after the hours are filled in: the limit applies to the
text customers see.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.hours import BusinessHours
from bot.hours.wording import weekly_lines
from connector.cloudapi.limits import check_business_profile

ENV = "BUSINESS_PROFILE_FILE"
DEFAULT_FILE = Path(__file__).resolve().parents[2] / "business_profile.yml"
HOURS = "{hours_week}"
LANGUAGES = ("es", "en")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


class ProfileError(ValueError):
    """The profile file cannot become a profile; `problems` says every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def profile_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get(ENV) or DEFAULT_FILE)


@dataclass(frozen=True)
class ProfileFile:
    path: Path
    values: dict[str, Any]

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "ProfileFile":
        path = profile_path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProfileError([f"{path}: not found ({ENV})"]) from None
        except yaml.YAMLError as exc:
            raise ProfileError([f"{path}: not valid YAML: {exc}"]) from None
        if not isinstance(data, dict):
            raise ProfileError([f"{path}: must be a mapping of profile fields"])
        return cls(path, data)

    @property
    def language(self) -> str:
        return str(self.values.get("language") or "es")


def compose(profile: ProfileFile, hours: BusinessHours) -> dict[str, Any]:
    """The update's fields (without messaging_product). ProfileError lists every problem."""
    values = dict(profile.values)
    problems = []
    language = values.pop("language", "es")
    if language not in LANGUAGES:
        problems.append(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    # An empty optional field is not sent: Meta would clear it, and "about" may not be empty.
    fields = {name: value for name, value in values.items() if value not in (None, "", [])}
    for name in ("about", "description"):
        if name not in fields:
            problems.append(f"{name} is required")
    description = fields.get("description")
    if isinstance(description, str):
        if description.count(HOURS) != 1:
            problems.append(f"description must say {HOURS} once, where the opening hours go")
        others = [p for p in _PLACEHOLDER.findall(description) if p != HOURS]
        if others:
            problems.append(f"description: unknown placeholder(s) {', '.join(others)} (only {HOURS})")
        fields["description"] = description.strip().replace(HOURS, weekly_lines(hours, str(language)))
    if isinstance(fields.get("websites"), str):
        fields["websites"] = [fields["websites"]]
    problems += check_business_profile(fields)
    if problems:
        raise ProfileError([f"{profile.path.name}: {problem}" for problem in problems])
    return fields


def version(fields: dict[str, Any]) -> str:
    """Identifies what a sync sends: equal versions, equal profiles."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]

