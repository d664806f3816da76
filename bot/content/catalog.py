"""The FAQ catalog: every `data/faq/<key>.yml` read into typed objects.

One file holds one FAQ: the `faq/<key>` examples (one block per language) and the
`utter_faq/<key>` answer (English variation conditioned on the `language` slot, Spanish default).
The validator, the console's FAQ editor and the NLU benchmark all read FAQs through here, so
the file layout is known in one place only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

ROOT = Path(__file__).resolve().parents[2]
FAQ_DIR = ROOT / "data" / "faq"

FAQ_INTENT_PREFIX = "faq/"
FAQ_RESPONSE_PREFIX = "utter_faq/"
LANGUAGES = ("es", "en")
# The variation without a condition is what Rasa says when no condition matches, i.e. Spanish.
DEFAULT_LANGUAGE = "es"


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Variation:
    """One variation of a response, with the language its condition selects."""

    language: str
    text: str
    buttons: tuple[Button, ...]
    raw: dict[str, Any]


@dataclass
class Faq:
    key: str
    path: Path
    examples: dict[str, list[str]] = field(default_factory=dict)
    answers: dict[str, list[Variation]] = field(default_factory=dict)
    # `metadata: {offer_agent: true}` on an example block: after this answer the bot offers a
    # person straight away (questions a bot can explain but rarely settle, e.g. a damaged item).
    offer_agent: bool = False

    @property
    def intent(self) -> str:
        return FAQ_INTENT_PREFIX + self.key

    @property
    def response(self) -> str:
        return FAQ_RESPONSE_PREFIX + self.key

    def answer(self, language: str) -> str | None:
        variations = self.answers.get(language)
        return variations[0].text if variations else None

    @property
    def buttons(self) -> tuple[Button, ...]:
        return tuple(b for vs in self.answers.values() for v in vs for b in v.buttons)


@dataclass
class Catalog:
    faqs: list[Faq]

    def __iter__(self) -> Iterator[Faq]:
        return iter(self.faqs)

    def __len__(self) -> int:
        return len(self.faqs)

    def keys(self) -> list[str]:
        return [faq.key for faq in self.faqs]

    def get(self, key: str) -> Faq | None:
        return next((faq for faq in self.faqs if faq.key == key), None)


# libyaml's loader when PyYAML has it: the console's editor reads every file on each save.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=SAFE_LOADER)


def read_yaml(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        content = load_yaml(fh.read())
    return content if isinstance(content, dict) else {}


def parse_examples(block: str | list | None) -> list[str]:
    """Rasa's `examples: |` block (`- text` lines) as a list of texts."""
    if isinstance(block, list):  # the structured form Rasa also accepts
        return [str(item.get("text", "") if isinstance(item, dict) else item) for item in block]
    lines = (line.strip() for line in (block or "").splitlines())
    return [line[2:].strip() for line in lines if line.startswith("- ")]


def variation_language(variation: dict[str, Any]) -> str:
    for condition in variation.get("condition") or []:
        if condition.get("type") == "slot" and condition.get("name") == "language":
            return str(condition.get("value"))
    return DEFAULT_LANGUAGE


def parse_variation(variation: dict[str, Any]) -> Variation:
    buttons = tuple(
        Button(str(b.get("title", "")), str(b.get("payload", "")))
        for b in variation.get("buttons") or []
    )
    return Variation(variation_language(variation), str(variation.get("text") or ""), buttons, variation)


def load_file(path: Path) -> list[Faq]:
    """The FAQs a file defines; normally one, but a broken file may hold halves of several."""
    return parse_file(path, read_yaml(path))


def parse_file(path: Path, content: dict[str, Any]) -> list[Faq]:
    """The FAQs in a file's parsed content (the editor checks content before it is written)."""
    faqs: dict[str, Faq] = {}

    def faq(key: str) -> Faq:
        return faqs.setdefault(key, Faq(key=key, path=path))

    for item in content.get("nlu") or []:
        intent = str(item.get("intent") or "")
        if not intent.startswith(FAQ_INTENT_PREFIX):
            continue
        # A block without a language tag is kept under "?" so the validator can point at it.
        metadata = item.get("metadata") or {}
        language = str(metadata.get("language") or "?")
        entry = faq(intent[len(FAQ_INTENT_PREFIX):])
        entry.offer_agent = entry.offer_agent or bool(metadata.get("offer_agent"))
        entry.examples.setdefault(language, []).extend(
            parse_examples(item.get("examples"))
        )
    for name, variations in (content.get("responses") or {}).items():
        if not str(name).startswith(FAQ_RESPONSE_PREFIX):
            continue
        entry = faq(str(name)[len(FAQ_RESPONSE_PREFIX):])
        for variation in variations or []:
            parsed = parse_variation(variation)
            entry.answers.setdefault(parsed.language, []).append(parsed)
    return list(faqs.values())


def faq_files(faq_dir: Path = FAQ_DIR) -> list[Path]:
    return sorted(Path(faq_dir).glob("*.yml"))


def load_catalog(faq_dir: Path | str = FAQ_DIR) -> Catalog:
    return Catalog([faq for path in faq_files(Path(faq_dir)) for faq in load_file(path)])


def examples_by_language(catalog: Iterable[Faq], language: str) -> list[tuple[str, str]]:
    """(text, intent) pairs for one language, the shape an NLU benchmark wants."""
    return [(text, faq.intent) for faq in catalog for text in faq.examples.get(language, [])]
