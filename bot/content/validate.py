"""`python -m bot.content.validate` (`make validate`): `rasa data validate` plus the checks Rasa misses.

Rasa accepts an FAQ with no English answer, two FAQs trained on the same sentence, a menu row
pointing at an FAQ that no longer exists or a button title WhatsApp will reject; each of those
only shows up in a customer's chat. Every check here is a small function returning `Problem`s,
so the tests can run each one on deliberately broken data.
"""
from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Iterator, Mapping, Sequence

from bot.content.problems import Problem, Source, relative
from bot.content.rasa_check import check_action_responses, check_rasa
from bot.content.similarity import similar_pairs
from bot.content.catalog import (
    DEFAULT_LANGUAGE,
    FAQ_INTENT_PREFIX,
    FAQ_RESPONSE_PREFIX,
    LANGUAGES,
    ROOT,
    Catalog,
    load_catalog,
    parse_examples,
    parse_file,
    read_yaml,
    variation_language,
)
from bot.nlu.text import strip_accents
from connector.cloudapi.limits import check_rasa_buttons, validate_rasa_response

MIN_EXAMPLES_PER_LANGUAGE = 10
# WhatsApp's interactive body limit: an answer can then go out with reply buttons under it.
ANSWER_MAX = 1024


# Written with doubled braces in responses (domain.yml says why); Rasa sends `/faq_pick{json}`.
FAQ_PICK = re.compile(r'^/faq_pick\{(\{.*\})\}$')


def faq_pick_payload(key: str) -> str:
    """The button payload that picks FAQ `key`, in the form FAQ_PICK reads."""
    return "/faq_pick{" + json.dumps({"faq_key": key}, separators=(",", ":")) + "}"


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


def load_sources(root: Path, replace: Mapping[Path, dict[str, Any] | None] | None = None) -> list[Source]:
    """Every domain and data file; `replace` puts parsed content in place of (or beside) files on
    disk, None removing one: the editor checks the project as it would be after a save."""
    domain = root / "domain.yml"
    domain_files = sorted(domain.rglob("*.yml")) if domain.is_dir() else [domain] if domain.exists() else []
    data_files = sorted((root / "data").rglob("*.yml")) + sorted((root / "data").rglob("*.yaml"))
    return replaced([Source(path, read_yaml(path)) for path in domain_files + data_files], replace or {})


def replaced(sources: list[Source], replace: Mapping[Path, dict[str, Any] | None]) -> list[Source]:
    """`sources` with some files' content replaced, added (a new path) or removed (None)."""
    replace = {Path(path): content for path, content in replace.items()}
    kept = [Source(s.path, replace[s.path]) if s.path in replace else s for s in sources]
    added = [Source(path, content) for path, content in sorted(replace.items())
             if content is not None and path not in {s.path for s in sources}]
    return [s for s in kept if s.content is not None] + added


def catalog_of(sources: Iterable[Source], root: Path) -> Catalog:
    """The FAQ catalog of these sources: what load_catalog reads from data/faq/ on disk."""
    faq_dir = (root / "data" / "faq").resolve()
    faq_sources = sorted((s for s in sources if s.path.suffix == ".yml" and s.path.parent.resolve() == faq_dir),
                         key=lambda s: s.path)
    return Catalog([faq for source in faq_sources for faq in parse_file(source.path, source.content)])


# --- examples -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)  # the console re-checks the same examples on every save
def normalise(text: str) -> str:
    """Lowercase, no accents, no punctuation, single spaces: how customers' variants collapse."""
    return " ".join(re.sub(r"[^\w]+", " ", strip_accents(text.lower())).split())


def iter_examples(sources: Iterable[Source], root: Path) -> Iterator[Example]:
    for source in sources:
        where = relative(source.path, root)  # once per file: resolving paths is most of the cost
        for item in source.content.get("nlu") or []:
            if not isinstance(item, dict) or not item.get("intent"):
                continue  # synonyms, regexes and lookups are not intent examples
            language = str((item.get("metadata") or {}).get("language") or "?")
            for text in parse_examples(item.get("examples")):
                yield Example(where, str(item["intent"]), language, text, normalise(text))


def check_near_duplicates(sources: Iterable[Source], root: Path, focus: Collection[str] | None = None) -> list[Problem]:
    """The same (or nearly the same) example under two intents, FAQ or not (the rule:
    bot/content/similarity.py). With `focus` (intents), only pairs with one of them, that one
    first: a save changes one FAQ, so only its pairs can have changed."""
    usable = [e for e in iter_examples(sources, root) if e.normal]
    firsts = usable if focus is None else [e for e in usable if e.intent in focus]
    ordered = firsts + ([] if focus is None else [e for e in usable if e.intent not in focus])
    problems = []
    for i, j in similar_pairs([e.normal for e in ordered], [e.intent for e in ordered], len(firsts)):
        a, b = ordered[i], ordered[j]
        how = "the same as" if a.normal == b.normal else "nearly the same as"
        problems.append(Problem(
            a.source, label(a.intent),
            f"example {a.text!r} ({a.intent}) is {how} {b.text!r} ({b.intent}, {b.source})",
            f"examples.{a.language}",
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
        Problem(where, key, f"{FAQ_INTENT_PREFIX}{key} has examples but no {FAQ_RESPONSE_PREFIX}{key} answer",
                f"answer.{DEFAULT_LANGUAGE}")
        for key, where in intents.items() if key not in responses
    ]
    problems += [
        Problem(where, key, f"{FAQ_RESPONSE_PREFIX}{key} is an answer with no {FAQ_INTENT_PREFIX}{key} examples",
                f"examples.{DEFAULT_LANGUAGE}")
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
                problems.append(Problem(where, faq.key, f"no {language} examples", f"examples.{language}"))
            if faq.answers and not faq.answers.get(language):
                problems.append(Problem(where, faq.key, f"no {language} answer", f"answer.{language}"))
        for language in sorted(set(faq.examples) - set(LANGUAGES)):
            problems.append(Problem(
                where, faq.key,
                f"examples block with metadata.language {language!r}; expected one of {', '.join(LANGUAGES)}",
                f"examples.{language}",
            ))
        for language in sorted(set(faq.answers) - set(LANGUAGES)):
            problems.append(Problem(where, faq.key, f"answer for unknown language {language!r}", f"answer.{language}"))
    return problems


def check_example_counts(catalog: Catalog, root: Path, minimum: int = MIN_EXAMPLES_PER_LANGUAGE) -> list[Problem]:
    """Enough examples per language for the classifier to learn the FAQ in that language."""
    return [
        Problem(relative(faq.path, root), faq.key, f"only {len(faq.examples[language])} {language} examples (minimum {minimum})",
                f"examples.{language}")
        for faq in catalog
        for language in LANGUAGES
        if 0 < len(faq.examples.get(language, [])) < minimum
    ]


def check_answer_length(catalog: Catalog, root: Path, maximum: int = ANSWER_MAX) -> list[Problem]:
    """An answer must fit the body of an interactive message (it may be sent with buttons)."""
    return [
        Problem(relative(faq.path, root), faq.key, f"{language} answer is {len(v.text)} characters (max {maximum})",
                f"answer.{language}")
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
            problems.append(Problem(where, faq.key, f"FAQ {faq.key!r} should be in {faq.key}.yml", "key"))
        if faq.key in seen and seen[faq.key] != where:
            problems.append(Problem(where, faq.key, f"FAQ {faq.key!r} is also defined in {seen[faq.key]}", "key"))
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
    problems = []
    for source, name, n, variation in iter_variations(sources):
        about_buttons = set(check_rasa_buttons(variation.get("buttons") or []))
        for message in checker(variation):
            part = "buttons" if message in about_buttons else "answer"
            problems.append(Problem(relative(source.path, root), response_label(name), f"{name} variation {n}: {message}",
                                    faq_field(name, part, variation)))
    return problems


def faq_field(response: str, part: str, variation: Mapping[str, Any]) -> str | None:
    """The editor field of a problem in an FAQ answer's variation; None for other responses."""
    return f"{part}.{variation_language(variation)}" if response.startswith(FAQ_RESPONSE_PREFIX) else None


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
                        faq_field(name, "buttons", variation),
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
                    faq_field(name, "buttons", variation),
                ))
    return problems


def run_checks(
    root: Path = ROOT,
    with_rasa: bool = True,
    replace: Mapping[Path, dict[str, Any] | None] | None = None,
    focus: Collection[str] | None = None,
) -> list[Problem]:
    """Every check; `replace` as in load_sources, `focus` (intents) as in check_near_duplicates.
    Rasa's own validation reads the files on disk, so it cannot run with `replace`."""
    root = Path(root)
    if replace and with_rasa:
        raise ValueError("rasa data validate reads files on disk: run with with_rasa=False")
    problems = check_sources(load_sources(root, replace), root, focus)
    if with_rasa:
        problems += check_rasa(root)
    return problems


def check_sources(sources: list[Source], root: Path, focus: Collection[str] | None = None) -> list[Problem]:
    """The checks that read content, not files: what the console runs on an edit before it is saved."""
    catalog = catalog_of(sources, root)
    return (
        check_near_duplicates(sources, root, focus)
        + check_faq_pairs(sources, root)
        + check_languages(catalog, root)
        + check_example_counts(catalog, root)
        + check_answer_length(catalog, root)
        + check_file_layout(catalog, root)
        + check_response_limits(sources, root)
        + check_button_targets(sources, catalog, root)
        + check_action_responses(sources, root)
    )


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
