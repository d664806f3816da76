"""What every content check returns, and the files it reads: shared by validate and rasa_check."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Problem:
    file: str
    faq: str | None
    message: str
    # The part of the FAQ it concerns, named as the console's editor names its fields:
    # "examples.<language>", "answer.<language>", "buttons.<language>" or "key"; None: elsewhere.
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: [{self.faq}]" if self.faq else f"{self.file}:"
        return f"{where} {self.message}"


@dataclass(frozen=True)
class Source:
    """One YAML file that can hold NLU examples and/or responses (domain or training data)."""

    path: Path
    content: dict[str, Any]


def relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
