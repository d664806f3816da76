"""The leads' FAQ editor: a save is checked against the whole catalogue as it would be after it,
then written to data/faq/<key>.yml when clean, or kept as the lead's draft when not.

A draft lives in Redis only (`console:faq:draft:{key}:{lead}`): it is never written to data/, so
training and publishing never see it. Who last wrote an FAQ, and when, is `console:faq:edited`
(a hash: key -> {"by", "at"}), recorded on every write made here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
import redis

from bot.content.catalog import LANGUAGES, load_catalog, load_yaml
from bot.content.faq_file import Conflict, FaqFile, add_example, faq_dir
from bot.content.problems import Problem
from bot.content.validate import check_sources, load_sources, replaced
from bot.nlu.text import strip_accents

from .faq_form import FaqForm

DRAFT_TTL_SECONDS = 30 * 24 * 3600
EDITED_KEY = "console:faq:edited"
GENERAL = ""  # the field of a problem outside this FAQ's fields (e.g. a menu row in domain.yml)
TOPIC_SEPARATOR = "_"


def draft_key(key: str, lead: str) -> str:
    return f"console:faq:draft:{key}:{lead}"


@dataclass(frozen=True)
class Edit:
    by: str
    at: datetime


@dataclass
class Summary:
    key: str
    topic: str
    examples: dict[str, int]
    edited: Edit | None
    drafts: list[str]


@dataclass
class Outcome:
    """What a save, rename or delete came to: `status` is "written", "draft", "refused" or "conflict"."""

    status: str
    form: FaqForm
    problems: dict[str, list[str]] = field(default_factory=dict)
    theirs: FaqForm | None = None  # on a conflict: the file as the other lead saved it


def by_field(problems: list[Problem], fields: set[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        where = problem.field if problem.field in fields else GENERAL
        grouped.setdefault(where, []).append(problem.message)
    return grouped


def form_fields() -> set[str]:
    return {"key"} | {f"{part}.{lang}" for part in ("examples", "answer", "buttons") for lang in LANGUAGES}


def searchable(text: str) -> str:
    return strip_accents(text.lower())


class FaqEditor:
    def __init__(self, r: redis.Redis, project_dir: Path | str, clock) -> None:
        self.redis = r
        self.root = Path(project_dir)
        self.clock = clock

    # --- reading ------------------------------------------------------------------------------

    def keys(self) -> list[str]:
        return sorted(path.stem for path in faq_dir(self.root).glob("*.yml"))

    def summaries(self, query: str = "", topic: str = "") -> list[Summary]:
        needle = searchable(query.strip())
        out = []
        for faq in load_catalog(faq_dir(self.root)):
            haystack = searchable(" ".join([faq.key, *(t for ts in faq.examples.values() for t in ts),
                                            *(v.text for vs in faq.answers.values() for v in vs)]))
            if needle and needle not in haystack:
                continue
            if topic and topic_of(faq.key) != topic:
                continue
            out.append(Summary(faq.key, topic_of(faq.key), {lang: len(faq.examples.get(lang, [])) for lang in LANGUAGES},
                               self.last_edited(faq.key), self.drafts_of(faq.key)))
        return sorted(out, key=lambda s: (s.topic, s.key))

    def topics(self) -> list[str]:
        return sorted({topic_of(key) for key in self.keys()})

    def load(self, key: str) -> FaqForm:
        return FaqForm.of(FaqFile.load(self.root, key))

    def last_edited(self, key: str) -> Edit | None:
        raw = self.redis.hget(EDITED_KEY, key)
        if not raw:
            return None
        data = json.loads(raw)
        return Edit(data["by"], datetime.fromisoformat(data["at"]))

    # --- drafts -------------------------------------------------------------------------------

    def draft(self, key: str, lead: str) -> Outcome | None:
        raw = self.redis.get(draft_key(key, lead))
        if not raw:
            return None
        data = json.loads(raw)
        return Outcome("draft", FaqForm.from_json(data["form"]), data["problems"])

    def drafts_of(self, key: str) -> list[str]:
        prefix = draft_key(key, "")
        return sorted(k[len(prefix):] for k in self.redis.scan_iter(prefix + "*"))

    def discard_draft(self, key: str, lead: str) -> None:
        self.redis.delete(draft_key(key, lead))

    def _keep_draft(self, outcome: Outcome, lead: str) -> Outcome:
        data = {"form": outcome.form.to_json(), "problems": outcome.problems, "at": self.clock.now().isoformat()}
        self.redis.set(draft_key(outcome.form.key, lead), json.dumps(data), ex=DRAFT_TTL_SECONDS)
        return outcome

    # --- checks -------------------------------------------------------------------------------

    def problems(self, replace: dict[Path, FaqFile | None], focus: FaqFile | None) -> list[Problem]:
        """The problems a change brings: new ones anywhere, and every one of the FAQ it changes
        (a lead who edits an FAQ fixes it whole; other FAQs' old problems do not block them).
        Near-duplicates are compared for the changed FAQ only: no other pair can have changed,
        and each is filed under the changed FAQ, so the "before" run can leave them out."""
        contents = {path: None if faq is None else load_yaml(faq.text()) for path, faq in replace.items()}
        sources = load_sources(self.root)
        after = check_sources(replaced(sources, contents), self.root, {focus.intent} if focus else set())
        before = set(check_sources(sources, self.root, set()))
        return [p for p in after if (focus is not None and p.faq == focus.key) or p not in before]

    # --- writing ------------------------------------------------------------------------------

    def _file_for(self, form: FaqForm) -> FaqFile:
        faq = FaqFile.new(self.root, form.key) if form.version == "absent" else FaqFile.load(self.root, form.key)
        faq.version = form.version  # the version the lead read: a save from it must still be current
        return faq

    def save(self, form: FaqForm, lead: str) -> Outcome:
        try:
            faq = self._file_for(form)
        except FileNotFoundError:
            return Outcome("conflict", form, {GENERAL: ["This FAQ was deleted or renamed since you opened it."]})
        form.apply(faq)
        problems = by_field(self.problems({faq.path: faq}, faq), form_fields())
        if problems:
            return self._keep_draft(Outcome("draft", form, problems), lead)
        try:
            form.version = faq.save()
        except Conflict as conflict:
            return self._conflict(form, conflict)
        self._record(form.key, lead)
        self.discard_draft(form.key, lead)
        return Outcome("written", form)

    def _conflict(self, form: FaqForm, conflict: Conflict) -> Outcome:
        if conflict.theirs is None:
            return Outcome("conflict", form, {GENERAL: ["This FAQ was deleted or renamed since you opened it."]})
        theirs = self.load(form.key)
        # The merged form is saved against what is on disk now: the lead has seen it.
        form.version = theirs.version
        return Outcome("conflict", form, theirs=theirs)

    def rename(self, key: str, new_key: str, version: str, lead: str) -> Outcome:
        old = FaqFile.load(self.root, key)
        form = FaqForm.of(old)
        if old.version != version:
            return Outcome("conflict", form, {GENERAL: ["This FAQ changed since you opened it; rename it again."]})
        try:
            new = old.renamed(new_key)
        except ValueError as exc:
            return Outcome("refused", form, {"key": [str(exc)]})
        if new.path.exists():
            return Outcome("refused", form, {"key": [f"an FAQ named {new_key!r} already exists"]})
        problems = by_field(self.problems({old.path: None, new.path: new}, new), form_fields())
        if problems:
            return Outcome("refused", form, problems)
        try:
            new.save()
        except Conflict:
            return Outcome("refused", form, {"key": [f"an FAQ named {new_key!r} was just created"]})
        try:
            old.delete()
        except Conflict as conflict:
            new.delete()  # undo: never leave the FAQ twice
            return self._conflict(form, conflict)
        self._record(new_key, lead)
        self.redis.hdel(EDITED_KEY, key)
        return Outcome("written", FaqForm.of(new))

    def delete(self, key: str, version: str) -> Outcome:
        faq = FaqFile.load(self.root, key)
        form = FaqForm.of(faq)
        faq.version = version
        problems = by_field(self.problems({faq.path: None}, None), form_fields())
        if problems:
            return Outcome("refused", form, problems)
        try:
            faq.delete()
        except Conflict as conflict:
            return self._conflict(form, conflict)
        self.redis.hdel(EDITED_KEY, key)
        return Outcome("written", form)

    def add_example(self, key: str, language: str, text: str, lead: str) -> str:
        """One example appended to the FAQ's file (the not-understood inbox), recorded as the
        lead's edit; published with the next publish. Returns the file's new version."""
        version = add_example(self.root, key, language, text)
        self._record(key, lead)
        return version

    def _record(self, key: str, lead: str) -> None:
        self.redis.hset(EDITED_KEY, key, json.dumps({"by": lead, "at": self.clock.now().isoformat()}))


def topic_of(key: str) -> str:
    """The FAQ files carry no topic, so the key's first word stands in (size_guide_shoes: size)."""
    return key.split(TOPIC_SEPARATOR, 1)[0]
