"""The template register: which message templates the business may send, in which languages,
and what Meta says of each (status, quality). The one owner of the template rules (with
template_defs.py, what a template is and how its parameters are filled in); the send-time gate,
the alerts API, campaigns and the console's picker ask it.

Definitions come from templates.yml (`load_file`) or from Meta's template list (`sync`); Meta's
webhooks (`record_status`, `record_quality`) move a template's status and quality. A template is
sent only when approved, in the language picked for the customer (exact code, then the same base
language, then the configured default order), with its parameters of the right count and types
(`prepare`). At most MAX_TEMPLATES names (translations of one name count once, as Meta counts).

Status and quality are dated by when Meta changed them (the webhook's time, the sync's): the
newest wins, and one carrying the current one's ref is a redelivery, so a late or repeated
webhook changes nothing. A status from the file is dated at the epoch, so anything Meta said
outranks it. Until a first sync the file's templates are taken as approved (the file lists what
Meta approved); after one, a template the file adds is pending until Meta says otherwise. A
sync removes what Meta no longer lists.

Keys (owned here):
  tpl:defs        hash: "name:language" → JSON definition {name, language, category, id, components}
  tpl:status      hash: "name:language" → JSON {status, at (epoch ms), ref, reason}
  tpl:quality     hash: "name:language" → JSON {quality, at (epoch ms), ref}
  tpl:languages   string: JSON list, the default language order (templates.yml `fallback_languages`)
  tpl:synced      string: epoch ms of the last sync with Meta
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from connector.policy.template_defs import (  # noqa: F401 (re-exported: the register's vocabulary)
    CATEGORIES, DEFAULT_LANGUAGES, LANGUAGE_RE, PARAM_TYPES, QUALITIES, STATUSES, Button, Component,
    Param, Template, TemplateError, definition, display_values, file_status, fill_in, from_meta,
    meta_status,
    normalize_language,
)
from core.clock import SYSTEM_CLOCK, Clock

MAX_TEMPLATES = 250          # per WhatsApp Business Account, counted by name (translations share one)
TEMPLATES_FILE = Path(__file__).resolve().parents[2] / "templates.yml"
DEFS, STATUS, QUALITY = "tpl:defs", "tpl:status", "tpl:quality"
LANGUAGES_KEY, SYNCED_KEY = "tpl:languages", "tpl:synced"

# KEYS: the status or quality hash. ARGV: field, JSON value, at ms, ref. The newest `at` wins;
# the same ref as the current value is a redelivery. Returns 1 applied, 0 not.
_RECORD = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local c = cjson.decode(current)
  if ARGV[4] ~= '' and c.ref == ARGV[4] then return 0 end
  if tonumber(c.at) > tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


@dataclass(frozen=True)
class PreparedTemplate:
    template: Template
    body: dict                   # the `template` object of a Cloud API message, sent as is
    text: str                    # what the customer reads, filled in, for the history


def _check_limit(names: Iterable[str]) -> None:
    count = len(set(names))
    if count > MAX_TEMPLATES:
        raise TemplateError(f"{count} templates: a WhatsApp Business Account holds at most {MAX_TEMPLATES} "
                            "(translations of one name count once).")


# ---- the register ----

def _to_ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


class TemplateRegister:
    def __init__(self, redis, clock: Clock = SYSTEM_CLOCK) -> None:
        self.redis = redis
        self.clock = clock
        self._record = redis.register_script(_RECORD)

    # -- loading --

    def load_file(self, path: Path | str = TEMPLATES_FILE) -> int:
        """Put templates.yml's definitions into the register (replacing those of the same
        name and language); returns how many. Status and quality Meta reported stay."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise TemplateError(f"{path}: cannot read the templates file ({exc}).") from None
        items = data.get("templates") if isinstance(data, Mapping) else None
        if not isinstance(items, list):
            raise TemplateError(f"{path}: expected a `templates:` list.")
        templates = [(definition(item), item) for item in items]
        keys = [t.key for t, _ in templates]
        if len(set(keys)) != len(keys):
            twice = sorted({k for k in keys if keys.count(k) > 1})
            raise TemplateError(f"{path}: listed twice: {', '.join(twice)}.")
        _check_limit([t.name for t, _ in templates] + [t.name for t in self.all()])
        languages = data.get("fallback_languages", list(DEFAULT_LANGUAGES))
        if not isinstance(languages, list) or not all(isinstance(x, str) and LANGUAGE_RE.match(x) for x in languages):
            raise TemplateError(f"{path}: `fallback_languages` is a list of Meta language codes such as es_MX.")
        synced = bool(self.redis.exists(SYNCED_KEY))
        epoch = dt.datetime.fromtimestamp(0, dt.timezone.utc)
        for template, item in templates:
            where = f"template {template.name} ({template.language})"
            status = "pending" if synced else file_status(item.get("status"), where)
            self.redis.hset(DEFS, template.key, json.dumps(template.as_dict()))
            self.record_status(template.name, template.language, status, at=epoch)
        self.redis.set(LANGUAGES_KEY, json.dumps(languages))
        return len(templates)

    def sync(self, items: list[dict]) -> dict:
        """Make the register what Meta lists (GET /{waba_id}/message_templates, all pages):
        definitions, statuses and quality. Templates Meta does not list are removed. Returns
        {"added", "updated", "removed", "skipped": [(key, why)]}."""
        now = self.clock.now()
        before = {t.key: t for t in self.all()}
        seen, summary = set(), {"added": [], "updated": [], "removed": [], "skipped": []}
        parsed = []
        for item in items:
            try:
                parsed.append((from_meta(item, before.get(f"{item.get('name')}:{item.get('language')}")), item))
            except TemplateError as exc:
                summary["skipped"].append((f"{item.get('name')}:{item.get('language')}", str(exc)))
        _check_limit(t.name for t, _ in parsed)
        for template, item in parsed:
            seen.add(template.key)
            old = before.get(template.key)
            self.redis.hset(DEFS, template.key, json.dumps(template.as_dict()))
            status = meta_status(item.get("status"))
            if status:
                self.record_status(template.name, template.language, status, at=now, ref=f"sync:{_to_ms(now)}",
                                   reason=str(item.get("rejected_reason") or "").replace("NONE", ""))
            score = str((item.get("quality_score") or {}).get("score") or "unknown").lower()
            if score in QUALITIES:
                self.record_quality(template.name, template.language, score, at=now, ref=f"sync:{_to_ms(now)}")
            after = self.get(template.name, template.language)
            if old is None:
                summary["added"].append(template.key)
            elif old != after:
                summary["updated"].append(template.key)
        for key in sorted(set(before) - seen):
            self.redis.hdel(DEFS, key)
            self.redis.hdel(STATUS, key)
            self.redis.hdel(QUALITY, key)
            summary["removed"].append(key)
        self.redis.set(SYNCED_KEY, _to_ms(now))
        return summary

    # -- reading --

    def all(self) -> list[Template]:
        defs = self.redis.hgetall(DEFS)
        if not defs:
            return []
        keys = sorted(defs)
        statuses = dict(zip(keys, self.redis.hmget(STATUS, keys)))
        qualities = dict(zip(keys, self.redis.hmget(QUALITY, keys)))
        return sorted((self._join(defs[k], statuses[k], qualities[k]) for k in keys),
                      key=lambda t: (t.name, t.language))

    def get(self, name: str, language: str) -> Template | None:
        key = f"{name}:{language}"
        raw = self.redis.hget(DEFS, key)
        if raw is None:
            return None
        return self._join(raw, self.redis.hget(STATUS, key), self.redis.hget(QUALITY, key))

    @staticmethod
    def _join(raw_def: str, raw_status: str | None, raw_quality: str | None) -> Template:
        template = definition(json.loads(raw_def))
        status = json.loads(raw_status) if raw_status else {"status": "pending"}
        quality = json.loads(raw_quality) if raw_quality else {"quality": "unknown"}
        return Template(template.name, template.language, template.category, status["status"],
                        quality["quality"], template.components, template.id, status.get("reason", ""))

    def languages(self) -> list[str]:
        raw = self.redis.get(LANGUAGES_KEY)
        return json.loads(raw) if raw else list(DEFAULT_LANGUAGES)

    def ranked(self, language: str | None, templates: Iterable[Template] | None = None) -> list[Template]:
        """Templates ordered for a customer speaking `language`: exact code, same base language,
        then the default order, then the rest."""
        wanted = normalize_language(language)
        order = [normalize_language(x) for x in self.languages()]

        def rank(t: Template) -> tuple:
            if wanted and t.language == wanted:
                return (0, 0)
            if wanted and t.base_language == wanted.split("_")[0]:
                # es_AR wants es, then es_MX: the bare code, then the configured order.
                return (1, 0 if t.language == t.base_language else 1 + _index(order, t.language))
            return (2, _index(order, t.language))

        return sorted(self.all() if templates is None else templates, key=lambda t: (rank(t), t.name, t.language))

    def pick(self, name: str, language: str | None) -> Template:
        """The translation of `name` for a customer speaking `language` (None: the default
        order). Only a language in the fallback chain is picked: a template that exists only
        in other languages is refused rather than sent in one the customer may not read."""
        candidates = [t for t in self.all() if t.name == name]
        if not candidates:
            raise TemplateError(f"There is no template named {name!r} in the register.")
        wanted = normalize_language(language)
        order = [normalize_language(x) for x in self.languages()]
        eligible = [t for t in candidates if (wanted and t.base_language == wanted.split("_")[0])
                    or t.language in order]
        if not eligible:
            have = ", ".join(t.language for t in candidates)
            raise TemplateError(f"Template {name} exists only in {have}: not in the customer's language "
                                f"({wanted or 'unknown'}) nor in the default ones ({', '.join(order)}).")
        return self.ranked(language, eligible)[0]

    def prepare(self, name: str, language: str | None, params: Sequence[Any]) -> PreparedTemplate:
        """The Cloud API `template` object for sending `name` to a customer speaking
        `language`, with `params` (header's first, then the body's) checked and filled in."""
        template = self.pick(name, language)
        if not template.approved:
            why = f" ({template.reason})" if template.reason else ""
            raise TemplateError(f"Template {template.name} ({template.language}) is {template.status}{why}, "
                                "not approved: WhatsApp would not deliver it.")
        body, text = fill_in(template, params)
        return PreparedTemplate(template, body, text)

    def of_body(self, template_object: Mapping) -> Template | None:
        """The register's entry for a Cloud API `template` object (name + language code)."""
        if not isinstance(template_object, Mapping):
            return None
        language = template_object.get("language")
        code = language.get("code") if isinstance(language, Mapping) else None
        name = template_object.get("name")
        if not isinstance(name, str) or not isinstance(code, str):
            return None
        return self.get(name, code)

    def text_of(self, template_object: Mapping) -> str | None:
        """What the customer read for a sent `template` object, or None when it is unknown."""
        template = self.of_body(template_object)
        return template.fill(display_values(template_object)) if template else None

    # -- Meta's reports --

    def record_status(self, name: str, language: str, status: str, *, reason: str = "",
                      at: dt.datetime | None = None, ref: str = "") -> bool:
        """Meta changed a template's status at `at` (default now). True when it is now the
        status; False when a newer one stands or it is a redelivery (same ref)."""
        if status not in STATUSES:
            raise TemplateError(f"Unknown template status {status!r}; one of {', '.join(STATUSES)}.")
        at_ms = _to_ms(at or self.clock.now())
        value = {"status": status, "at": at_ms, "ref": ref, "reason": reason}
        return self._apply(STATUS, f"{name}:{language}", value, at_ms, ref)

    def record_quality(self, name: str, language: str, quality: str, *,
                       at: dt.datetime | None = None, ref: str = "") -> bool:
        if quality not in QUALITIES:
            raise TemplateError(f"Unknown template quality {quality!r}; one of {', '.join(QUALITIES)}.")
        at_ms = _to_ms(at or self.clock.now())
        return self._apply(QUALITY, f"{name}:{language}", {"quality": quality, "at": at_ms, "ref": ref}, at_ms, ref)

    def _apply(self, hash_key: str, key: str, value: dict, at_ms: int, ref: str) -> bool:
        return int(self._record(keys=[hash_key], args=[key, json.dumps(value), at_ms, ref])) == 1


def _index(order: list[str], language: str) -> int:
    return order.index(language) if language in order else len(order)

