"""`python -m bot.content.validate` (`make validate`): `rasa data validate` plus the checks Rasa misses.

Rasa accepts an FAQ with no English answer, two FAQs trained on the same sentence, a menu row
pointing at an FAQ that no longer exists or a button title WhatsApp will reject; each of those
only shows up in a customer's chat. Every check here is a small function returning `Problem`s,
so the tests can run each one on deliberately broken data.
"""
from __future__ import annotations

import argparse
import difflib
import functools
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from bot.content.problems import Problem, Source, relative
from bot.content.rasa_check import check_action_responses, check_rasa
from bot.content.catalog import (
    FAQ_INTENT_PREFIX,
    FAQ_RESPONSE_PREFIX,
    LANGUAGES,
    ROOT,
    Catalog,
    load_catalog,
    parse_examples,
    read_yaml,
)
from bot.nlu.text import strip_accents
from connector.cloudapi.limits import validate_rasa_response

MIN_EXAMPLES_PER_LANGUAGE = 10
# WhatsApp's interactive body limit: an answer can then go out with reply buttons under it.
ANSWER_MAX = 1024

# Near-duplicates. Examples here are WhatsApp fragments of 2–8 words, so:
# - token-set Jaccard >= 0.9 can only be met by the *same words* unless a message has 10+ distinct
#   words; it catches reorderings ("costo envio" / "envio costo") without flagging two FAQs
#   that merely share words ("cuanto tarda el envio" / "cuanto cuesta el envio": 0.6);
# - difflib ratio >= 0.95 catches a one-letter typo in a 20+ character sentence, which is how
#   copy-pasted examples drift apart. On the shipped data the closest pairs of different intents
#   are "que talla de jeans pido" / "que talla de tenis pido" (0.91) and "ok gracias" (thanks) /
#   "no gracias" (deny) (0.90): one word that changes the answer. 0.95 keeps a margin above
#   such legitimate pairs (the highest Jaccard among them is 0.71).
JACCARD_MIN = 0.9
RATIO_MIN = 0.95

# Written with doubled braces in responses (domain.yml says why); Rasa sends `/faq_pick{json}`.
FAQ_PICK = re.compile(r'^/faq_pick\{(\{.*\})\}$')


@dataclass(frozen=True)
class Example:
    source: str
    intent: str
    language: str
    text: str
    normal: str


def label(intent: str) -> str:
    """What a problem is filed under: the FAQ key for `faq/<key>`, else the intent itself."""
    return intent[len(FAQ_INTENT_PREFIX):] if intent.startswith(FAQ_INTENT_PREFIX) else intent


def load_sources(root: Path) -> list[Source]:
    domain = root / "domain.yml"
    domain_files = sorted(domain.rglob("*.yml")) if domain.is_dir() else [domain] if domain.exists() else []
    data_files = sorted((root / "data").rglob("*.yml")) + sorted((root / "data").rglob("*.yaml"))
    return [Source(path, read_yaml(path)) for path in domain_files + data_files]


# --- examples -------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lowercase, no accents, no punctuation, single spaces: how customers' variants collapse."""
    return " ".join(re.sub(r"[^\w]+", " ", strip_accents(text.lower())).split())


def iter_examples(sources: Iterable[Source], root: Path) -> Iterator[Example]:
    for source in sources:
        for item in source.content.get("nlu") or []:
            if not isinstance(item, dict) or not item.get("intent"):
                continue  # synonyms, regexes and lookups are not intent examples
            language = str((item.get("metadata") or {}).get("language") or "?")
            for text in parse_examples(item.get("examples")):
                yield Example(relative(source.path, root), str(item["intent"]), language, text, normalise(text))


@functools.lru_cache(maxsize=None)
def words(normal: str) -> frozenset[str]:
    return frozenset(normal.split())


@functools.lru_cache(maxsize=None)
def letters(normal: str) -> Counter[str]:
    return Counter(normal)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def similar(a: str, b: str) -> bool:
    if a == b:
        return True
    if jaccard(words(a), words(b)) >= JACCARD_MIN:
        return True
    # Both bounds are >= difflib's ratio, so most pairs are ruled out before difflib runs:
    # 2*shorter/(both lengths), then the same with shared characters counted regardless of order.
    if 2 * min(len(a), len(b)) / (len(a) + len(b)) < RATIO_MIN:
        return False
    shared = sum((letters(a) & letters(b)).values())
    if 2 * shared / (len(a) + len(b)) < RATIO_MIN:
        return False
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= RATIO_MIN


def cross_intent_pairs(examples: Sequence[Example]) -> Iterator[tuple[Example, Example]]:
    usable = [e for e in examples if e.normal]
    for i, a in enumerate(usable):
        for b in usable[i + 1:]:
            if a.intent != b.intent:
                yield a, b


def check_near_duplicates(sources: Iterable[Source], root: Path) -> list[Problem]:
    """The same (or nearly the same) example under two intents, FAQ or not."""
    examples = list(iter_examples(sources, root))
    problems = []
    for a, b in cross_intent_pairs(examples):
        if similar(a.normal, b.normal):
            how = "the same as" if a.normal == b.normal else "nearly the same as"
            problems.append(Problem(
                a.source, label(a.intent),
                f"example {a.text!r} ({a.intent}) is {how} {b.text!r} ({b.intent}, {b.source})",
            ))
    return problems


# --- FAQ structure --------------------------------------------------------------------------


def check_faq_pairs(sources: Iterable[Source], root: Path) -> list[Problem]:
    """Every `faq/<key>` has an `utter_faq/<key>` and vice versa (anywhere in domain or data)."""
    intents: dict[str, str] = {}
    responses: dict[str, str] = {}
    for source in sources:
        where = relative(source.path, root)
        for item in source.content.get("nlu") or []:
            intent = str(item.get("intent") or "") if isinstance(item, dict) else ""
            if intent.startswith(FAQ_INTENT_PREFIX):
                intents.setdefault(label(intent), where)
        for name in source.content.get("responses") or {}:
            if str(name).startswith(FAQ_RESPONSE_PREFIX):
                responses.setdefault(str(name)[len(FAQ_RESPONSE_PREFIX):], where)
    problems = [
        Problem(where, key, f"{FAQ_INTENT_PREFIX}{key} has examples but no {FAQ_RESPONSE_PREFIX}{key} answer")
        for key, where in intents.items() if key not in responses
    ]
    problems += [
        Problem(where, key, f"{FAQ_RESPONSE_PREFIX}{key} is an answer with no {FAQ_INTENT_PREFIX}{key} examples")
        for key, where in responses.items() if key not in intents
    ]
    return problems


def check_languages(catalog: Catalog, root: Path) -> list[Problem]:
    """Each FAQ has examples and an answer in every language, and no untagged blocks."""
    problems = []
    for faq in catalog:
        where = relative(faq.path, root)
        for language in LANGUAGES:
            if faq.examples and not faq.examples.get(language):
                problems.append(Problem(where, faq.key, f"no {language} examples"))
            if faq.answers and not faq.answers.get(language):
                problems.append(Problem(where, faq.key, f"no {language} answer"))
        for language in sorted(set(faq.examples) - set(LANGUAGES)):
            problems.append(Problem(
                where, faq.key,
                f"examples block with metadata.language {language!r}; expected one of {', '.join(LANGUAGES)}",
            ))
        for language in sorted(set(faq.answers) - set(LANGUAGES)):
            problems.append(Problem(where, faq.key, f"answer for unknown language {language!r}"))
    return problems


def check_example_counts(catalog: Catalog, root: Path, minimum: int = MIN_EXAMPLES_PER_LANGUAGE) -> list[Problem]:
    """Enough examples per language for the classifier to learn the FAQ in that language."""
    return [
        Problem(relative(faq.path, root), faq.key, f"only {len(faq.examples[language])} {language} examples (minimum {minimum})")
        for faq in catalog
        for language in LANGUAGES
        if 0 < len(faq.examples.get(language, [])) < minimum
    ]


def check_answer_length(catalog: Catalog, root: Path, maximum: int = ANSWER_MAX) -> list[Problem]:
    """An answer must fit the body of an interactive message (it may be sent with buttons)."""
    return [
        Problem(relative(faq.path, root), faq.key, f"{language} answer is {len(v.text)} characters (max {maximum})")
        for faq in catalog
        for language, variations in faq.answers.items()
        for v in variations
        if len(v.text) > maximum
    ]


def check_file_layout(catalog: Catalog, root: Path) -> list[Problem]:
    """One FAQ per file, named after it: the console edits an FAQ by rewriting data/faq/<key>.yml."""
    problems = []
    seen: dict[str, str] = {}
    for faq in catalog:
        where = relative(faq.path, root)
        if faq.path.stem != faq.key:
            problems.append(Problem(where, faq.key, f"FAQ {faq.key!r} should be in {faq.key}.yml"))
        if faq.key in seen and seen[faq.key] != where:
            problems.append(Problem(where, faq.key, f"FAQ {faq.key!r} is also defined in {seen[faq.key]}"))
        seen.setdefault(faq.key, where)
    return problems


# --- responses ------------------------------------------------------------------------------

def iter_variations(sources: Iterable[Source]) -> Iterator[tuple[Source, str, int, dict[str, Any]]]:
    for source in sources:
        for name, variations in (source.content.get("responses") or {}).items():
            for n, variation in enumerate(variations or [], 1):
                if isinstance(variation, dict):
                    yield source, str(name), n, variation


def response_label(name: str) -> str:
    return name[len(FAQ_RESPONSE_PREFIX):] if name.startswith(FAQ_RESPONSE_PREFIX) else name


def check_response_limits(
    sources: Iterable[Source], root: Path, checker: Callable[[Mapping[str, Any]], list[str]] | None = None
) -> list[Problem]:
    """Every response variation (domain and data files) fits what WhatsApp can send."""
    checker = checker or validate_rasa_response
    return [
        Problem(relative(source.path, root), response_label(name), f"{name} variation {n}: {message}")
        for source, name, n, variation in iter_variations(sources)
        for message in checker(variation)
    ]


def check_button_targets(sources: Iterable[Source], catalog: Catalog, root: Path) -> list[Problem]:
    """A menu row `/faq_pick{{"faq_key": ...}}` must name an FAQ that exists."""
    keys = set(catalog.keys())
    problems = []
    for source, name, n, variation in iter_variations(sources):
        for button in variation.get("buttons") or []:
            payload = str(button.get("payload") or "")
            match = FAQ_PICK.match(payload)
            if not match:
                if payload.startswith("/faq_pick{"):
                    problems.append(Problem(
                        relative(source.path, root), response_label(name),
                        f"{name} variation {n}: button {button.get('title')!r}: write the payload as "
                        f"/faq_pick{{{{...}}}} (Rasa reads single braces as a slot template)",
                    ))
                continue
            try:
                key = json.loads(match.group(1)).get("faq_key")
            except (ValueError, AttributeError):
                key = None
            if key not in keys:
                problems.append(Problem(
                    relative(source.path, root), response_label(name),
                    f"{name} variation {n}: button {button.get('title')!r} picks unknown FAQ {key!r}",
                ))
    return problems


def run_checks(root: Path = ROOT, with_rasa: bool = True) -> list[Problem]:
    root = Path(root)
    sources = load_sources(root)
    catalog = load_catalog(root / "data" / "faq")
    problems = (
        check_near_duplicates(sources, root)
        + check_faq_pairs(sources, root)
        + check_languages(catalog, root)
        + check_example_counts(catalog, root)
        + check_answer_length(catalog, root)
        + check_file_layout(catalog, root)
        + check_response_limits(sources, root)
        + check_button_targets(sources, catalog, root)
        + check_action_responses(sources, root)
    )
    if with_rasa:
        problems += check_rasa(root)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="project directory (default: this repo)")
    parser.add_argument("--no-rasa", action="store_true", help="skip `rasa data validate` (faster)")
    args = parser.parse_args(argv)
    problems = run_checks(args.root, with_rasa=not args.no_rasa)
    for problem in problems:
        print(problem)
    catalog = load_catalog(args.root / "data" / "faq")
    if problems:
        print(f"\n{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    print(f"OK: {len(catalog)} FAQs, all checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
