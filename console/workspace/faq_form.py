"""What the FAQ edit page shows and posts: one FAQ's editable fields, to and from its file.

Field names are those validate.py puts in `Problem.field` ("examples.<language>",
"answer.<language>", "buttons.<language>", "key"), so an error lands next to its field.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from bot.content.catalog import LANGUAGES, Button
from bot.content.faq_file import FaqFile
from connector.cloudapi.limits import RASA_BUTTONS_MAX

BLANK_BUTTON_ROWS = 2  # empty rows under the existing buttons, for adding new ones


@dataclass
class FaqForm:
    key: str
    version: str
    examples: dict[str, list[str]] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, list[Button]] = field(default_factory=dict)
    offer_agent: bool = False

    @classmethod
    def of(cls, faq: FaqFile) -> "FaqForm":
        return cls(
            key=faq.key,
            version=faq.version,
            examples={lang: faq.examples(lang) for lang in LANGUAGES},
            answers={lang: faq.answer(lang) or "" for lang in LANGUAGES},
            buttons={lang: faq.buttons(lang) for lang in LANGUAGES},
            offer_agent=faq.offer_agent,
        )

    @classmethod
    def parse(cls, key: str, form: Mapping[str, Any]) -> "FaqForm":
        """From the posted page: one example per line, button rows as parallel title/payload lists."""
        getlist = getattr(form, "getlist", lambda name: [form[name]] if name in form else [])
        buttons = {}
        for lang in LANGUAGES:
            rows = zip(getlist(f"buttons.{lang}.title"), getlist(f"buttons.{lang}.payload"))
            buttons[lang] = [Button(t.strip(), p.strip()) for t, p in rows if t.strip() or p.strip()]
        return cls(
            key=key,
            version=str(form.get("version", "")),
            examples={lang: lines(form.get(f"examples.{lang}", "")) for lang in LANGUAGES},
            answers={lang: str(form.get(f"answer.{lang}", "")).replace("\r\n", "\n").strip() for lang in LANGUAGES},
            buttons=buttons,
            offer_agent=bool(form.get("offer_agent")),
        )

    def apply(self, faq: FaqFile) -> None:
        """Writes the fields into the file's document; an unchanged field keeps its bytes."""
        for lang in LANGUAGES:
            faq.set_examples(lang, self.examples.get(lang, []))
            if self.answers.get(lang) or faq.answer(lang) is not None:
                faq.set_answer(lang, self.answers.get(lang, ""))
            faq.set_buttons(lang, self.buttons.get(lang, []))
        if self.offer_agent or faq.offer_agent:
            faq.offer_agent = self.offer_agent

    def button_rows(self, lang: str) -> list[Button]:
        rows = list(self.buttons.get(lang, []))
        blanks = min(BLANK_BUTTON_ROWS, max(RASA_BUTTONS_MAX - len(rows), 0))
        return rows + [Button("", "")] * blanks

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "FaqForm":
        buttons = {lang: [Button(**b) for b in rows] for lang, rows in (data.get("buttons") or {}).items()}
        return cls(key=data["key"], version=data["version"], examples=dict(data.get("examples") or {}),
                   answers=dict(data.get("answers") or {}), buttons=buttons,
                   offer_agent=bool(data.get("offer_agent")))

    def differs(self, other: "FaqForm") -> set[str]:
        """The fields where two forms disagree: what the merge view marks."""
        changed = {f"examples.{lang}" for lang in LANGUAGES if self.examples.get(lang) != other.examples.get(lang)}
        changed |= {f"answer.{lang}" for lang in LANGUAGES if self.answers.get(lang) != other.answers.get(lang)}
        changed |= {f"buttons.{lang}" for lang in LANGUAGES if self.buttons.get(lang) != other.buttons.get(lang)}
        if self.offer_agent != other.offer_agent:
            changed.add("offer_agent")
        return changed


def lines(text: Any) -> list[str]:
    """A pasted block: one example per line; blank lines and a leading "- " (YAML habit) dropped."""
    out = []
    for line in str(text or "").splitlines():
        line = line.strip()
        if line.startswith("- "):
            line = line[2:].strip()
        if line:
            out.append(line)
    return out
