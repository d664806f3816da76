"""One `data/faq/<key>.yml` as a round-trip document: edit a field, save, and the diff is that field.

The console's FAQ editor and the not-understood inbox write FAQ files through here, so a lead's
save looks like a developer's commit: comments, key order, quoting and layout are kept
(ruamel.yaml round-trip), and an untouched load + save gives back the same bytes.

Saves are conflict-safe: `FaqFile.version` is the sha256 of the bytes that were read; `save`
checks it against the file on disk under a lock and raises `Conflict` (carrying both versions and
the other save's text) instead of overwriting an edit it has not seen.
"""
from __future__ import annotations

import copy
import fcntl
import hashlib
import io
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.emitter import Emitter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString, SingleQuotedScalarString

from bot.content.catalog import (
    DEFAULT_LANGUAGE,
    FAQ_INTENT_PREFIX,
    FAQ_RESPONSE_PREFIX,
    Button,
    parse_examples,
    variation_language,
)

KEY = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
# The version of a file that does not exist yet: what `create` expects to find.
ABSENT = "absent"
RASA_FORMAT_VERSION = "3.1"


class Conflict(Exception):
    """The file changed since it was read: `theirs` is what is on disk now (None: deleted)."""

    def __init__(self, key: str, expected: str, current: str, theirs: str | None) -> None:
        self.key, self.expected, self.current, self.theirs = key, expected, current, theirs
        super().__init__(f"data/faq/{key}.yml changed since it was read ({expected[:8]} → {current[:8]})")


class _Emitter(Emitter):
    """ruamel 0.17 escapes characters beyond U+FFFF in double quotes (emoji as \\U0001F559);
    a developer types the emoji, so they are written as such."""

    def write_double_quoted(self, text, split=True):  # noqa: ANN001 - ruamel's signature
        astral = sorted({ch for ch in text if ord(ch) > 0xFFFF})
        if not astral:
            return super().write_double_quoted(text, split)
        free = (chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
        stand_in = dict(zip(astral, free))
        back = str.maketrans({v: k for k, v in stand_in.items()})
        stream = self.stream
        self.stream = _Translating(stream, back)
        try:
            super().write_double_quoted(text.translate(str.maketrans(stand_in)), split)
        finally:
            self.stream = stream


class _Translating:
    def __init__(self, stream, table) -> None:  # noqa: ANN001
        self.stream, self.table = stream, table

    def write(self, data) -> None:  # noqa: ANN001
        if isinstance(data, bytes):
            data = data.decode("utf-8").translate(self.table).encode("utf-8")
        else:
            data = data.translate(self.table)
        self.stream.write(data)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Emitter = _Emitter
    yaml.preserve_quotes = True
    yaml.width = 1_000_000  # answers are one long line each; never fold them
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def version_of(data: bytes | None) -> str:
    return ABSENT if data is None else hashlib.sha256(data).hexdigest()


def faq_dir(root: Path | str) -> Path:
    return Path(root) / "data" / "faq"


def faq_path(root: Path | str, key: str) -> Path:
    if not KEY.match(key):
        raise ValueError(f"FAQ key {key!r}: use lowercase letters, digits and _ (at most 64)")
    return faq_dir(root) / f"{key}.yml"


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialises check-and-write across processes (console workers) on the FAQ directory."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@dataclass
class FaqFile:
    key: str
    path: Path
    doc: CommentedMap
    version: str

    # --- loading ------------------------------------------------------------------------------

    @classmethod
    def load(cls, root: Path | str, key: str) -> "FaqFile":
        path = faq_path(root, key)
        data = path.read_bytes()
        return cls(key, path, _yaml().load(data.decode("utf-8")), version_of(data))

    @classmethod
    def new(cls, root: Path | str, key: str) -> "FaqFile":
        """An FAQ not yet on disk, laid out like the shipped ones; `save` creates it."""
        doc = CommentedMap()
        doc["version"] = DoubleQuotedScalarString(RASA_FORMAT_VERSION)
        doc["nlu"] = CommentedSeq()
        doc["responses"] = CommentedMap({FAQ_RESPONSE_PREFIX + key: CommentedSeq()})
        return cls(key, faq_path(root, key), doc, ABSENT)

    def text(self) -> str:
        out = io.StringIO()
        _yaml().dump(self.doc, out)
        return out.getvalue()

    # --- examples -----------------------------------------------------------------------------

    @property
    def intent(self) -> str:
        return FAQ_INTENT_PREFIX + self.key

    def _blocks(self) -> list[CommentedMap]:
        return [item for item in self.doc.get("nlu") or [] if isinstance(item, dict) and item.get("intent") == self.intent]

    def _block(self, language: str) -> CommentedMap | None:
        return next((b for b in self._blocks() if (b.get("metadata") or {}).get("language") == language), None)

    def languages(self) -> list[str]:
        found = [str((b.get("metadata") or {}).get("language")) for b in self._blocks()]
        found += [variation_language(v) for v in self._variations()]
        return list(dict.fromkeys(found))

    def examples(self, language: str) -> list[str]:
        return [t for b in self._blocks() if (b.get("metadata") or {}).get("language") == language
                for t in parse_examples(b.get("examples"))]

    def set_examples(self, language: str, texts: list[str]) -> None:
        texts = [" ".join(t.split()) for t in texts]
        texts = list(dict.fromkeys(t for t in texts if t))
        block = self._block(language)
        if block is not None and not texts:
            nlu = self.doc["nlu"]  # an empty `examples: |` is no way to say "none": drop the block
            del nlu[next(i for i, item in enumerate(nlu) if item is block)]
            return
        if block is None:
            if not texts:
                return
            block = CommentedMap()
            block["intent"] = self.intent
            block["metadata"] = CommentedMap({"language": language})
            if "nlu" not in self.doc:
                self.doc.insert(1, "nlu", CommentedSeq())
            self.doc["nlu"].append(block)
        if block.get("examples") is not None and parse_examples(block["examples"]) == texts:
            return  # unchanged: keep the bytes as they are
        block["examples"] = LiteralScalarString("".join(f"- {t}\n" for t in texts))

    # --- answers ------------------------------------------------------------------------------

    def _variations(self) -> CommentedSeq:
        responses = self.doc.setdefault("responses", CommentedMap())
        name = FAQ_RESPONSE_PREFIX + self.key
        if responses.get(name) is None:
            responses[name] = CommentedSeq()
        return responses[name]

    def _variation(self, language: str, create: bool = False) -> CommentedMap | None:
        found = next((v for v in self._variations() if isinstance(v, dict) and variation_language(v) == language), None)
        if found is None and create:
            found = CommentedMap()
            variations = self._variations()
            if language == DEFAULT_LANGUAGE:
                variations.append(found)  # the unconditioned variation comes last, as Rasa reads it
            else:
                found["condition"] = CommentedSeq([CommentedMap(
                    [("type", "slot"), ("name", "language"), ("value", language)])])
                variations.insert(0, found)
        return found

    def answer(self, language: str) -> str | None:
        variation = self._variation(language)
        return None if variation is None or variation.get("text") is None else str(variation["text"])

    def set_answer(self, language: str, text: str) -> None:
        text = text.replace("\r\n", "\n").strip()
        if self.answer(language) == text:
            return
        self._variation(language, create=True)["text"] = DoubleQuotedScalarString(text)

    def buttons(self, language: str) -> list[Button]:
        variation = self._variation(language)
        return [Button(str(b.get("title", "")), str(b.get("payload", "")))
                for b in (variation or {}).get("buttons") or []]

    def set_buttons(self, language: str, buttons: list[Button]) -> None:
        """Follow-up buttons under the answer (more than three go out as a WhatsApp list)."""
        if self.buttons(language) == list(buttons):
            return
        variation = self._variation(language, create=bool(buttons))
        if variation is None:
            return
        if not buttons:
            variation.pop("buttons", None)
            return
        variation["buttons"] = CommentedSeq(
            CommentedMap([("title", DoubleQuotedScalarString(b.title)), ("payload", SingleQuotedScalarString(b.payload))])
            for b in buttons
        )

    # --- offer a person -----------------------------------------------------------------------

    @property
    def offer_agent(self) -> bool:
        return any((b.get("metadata") or {}).get("offer_agent") for b in self._blocks())

    @offer_agent.setter
    def offer_agent(self, value: bool) -> None:
        if value == self.offer_agent:
            return
        blocks = self._blocks()
        if value:
            if not blocks:
                raise ValueError("offer_agent is set on an examples block: add examples first")
            blocks[0].setdefault("metadata", CommentedMap())["offer_agent"] = True
            return
        for block in blocks:
            (block.get("metadata") or {}).pop("offer_agent", None)

    def renamed(self, key: str) -> "FaqFile":
        """The same content under another key, for a new file (the old one is deleted apart)."""
        doc = copy.deepcopy(self.doc)
        old_intent, old_response = self.intent, FAQ_RESPONSE_PREFIX + self.key
        for item in doc.get("nlu") or []:
            if isinstance(item, dict) and item.get("intent") == old_intent:
                item["intent"] = FAQ_INTENT_PREFIX + key
        responses = doc.get("responses")
        if responses is not None and old_response in responses:
            position = list(responses).index(old_response)
            responses.insert(position, FAQ_RESPONSE_PREFIX + key, responses.pop(old_response))
        return FaqFile(key, faq_path(self.path.parents[2], key), doc, ABSENT)

    # --- saving -------------------------------------------------------------------------------

    def save(self) -> str:
        """Write the file if it is still the version that was read; returns the new version."""
        text = self.text()
        with _locked(self.path.parent):
            current = _read_bytes(self.path)
            if version_of(current) != self.version:
                raise Conflict(self.key, self.version, version_of(current),
                               None if current is None else current.decode("utf-8"))
            data = text.encode("utf-8")
            _write_atomically(self.path, data)
        self.version = version_of(data)
        return self.version

    def delete(self) -> None:
        with _locked(self.path.parent):
            current = _read_bytes(self.path)
            if version_of(current) != self.version:
                raise Conflict(self.key, self.version, version_of(current),
                               None if current is None else current.decode("utf-8"))
            self.path.unlink()
        self.version = ABSENT


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers (training, validate) never see half a file: write beside it, then rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_example(root: Path | str, key: str, language: str, text: str) -> str:
    """Append one example (the not-understood inbox's one click); returns the file's new version.

    Read and write happen under one lock, so a concurrent editor save is never overwritten; an
    example already present (same text) leaves the file untouched.
    """
    path = faq_path(root, key)
    with _locked(path.parent):
        faq = FaqFile.load(root, key)
        examples = faq.examples(language)
        faq.set_examples(language, examples + [text])
        if faq.examples(language) == examples:
            return faq.version
        data = faq.text().encode("utf-8")
        _write_atomically(path, data)
    return version_of(data)
