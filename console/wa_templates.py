"""A minimal register of approved WhatsApp templates (name, language, category, body with {{n}}).

Seeded from wa_templates.yml into Redis (`console:templates`) on first use, so a lead can
change the register at run time without editing files, and every console process sees one list.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import redis
import yaml

KEY = "console:templates"
SEED_FILE = Path(__file__).with_name("wa_templates.yml")
PARAM_RE = re.compile(r"\{\{(\d+)\}\}")
MAX_PARAM_LENGTH = 200


class TemplateError(ValueError):
    """The chosen template or its parameters cannot be sent; the message is for the agent."""


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    body: str
    category: str = "UTILITY"

    @property
    def key(self) -> str:
        return f"{self.name}:{self.language}"

    @property
    def param_count(self) -> int:
        return max((int(n) for n in PARAM_RE.findall(self.body)), default=0)

    @property
    def short_language(self) -> str:
        return self.language.split("_")[0].lower()

    def render(self, params: list[str]) -> str:
        return PARAM_RE.sub(lambda m: params[int(m.group(1)) - 1], self.body)

    def validate(self, params: list[str]) -> list[str]:
        params = [p.strip() for p in params[: self.param_count]]
        if len(params) < self.param_count or not all(params):
            raise TemplateError(f"Template {self.name} needs {self.param_count} parameter(s); fill them all in.")
        for p in params:
            # Meta rejects parameters with newlines/tabs or long runs of spaces.
            if len(p) > MAX_PARAM_LENGTH or re.search(r"[\n\t]| {5,}", p):
                raise TemplateError("Template parameters must be short single lines.")
        return params

    def cloud_api_object(self, params: list[str]) -> dict:
        """The `template` object of a Cloud API message, which the connector sends as is."""
        template: dict = {"name": self.name, "language": {"code": self.language}}
        if params:
            template["components"] = [{
                "type": "body",
                "parameters": [{"type": "text", "text": p} for p in params],
            }]
        return template


class TemplateRegister:
    def __init__(self, r: redis.Redis, seed_file: Path = SEED_FILE) -> None:
        self.redis = r
        self.seed_file = seed_file

    def seed(self) -> None:
        data = yaml.safe_load(self.seed_file.read_text(encoding="utf-8")) or {}
        for item in data.get("templates", []):
            t = Template(**item)
            self.redis.hsetnx(KEY, t.key, json.dumps(asdict(t)))

    def all(self) -> list[Template]:
        if not self.redis.exists(KEY):
            self.seed()
        items = [Template(**json.loads(v)) for v in self.redis.hvals(KEY)]
        return sorted(items, key=lambda t: (t.name, t.language))

    def get(self, key: str) -> Template:
        raw = self.redis.hget(KEY, key)
        if raw is None and not self.redis.exists(KEY):
            self.seed()
            raw = self.redis.hget(KEY, key)
        if raw is None:
            raise TemplateError("Unknown template; pick one from the list.")
        return Template(**json.loads(raw))

    def put(self, template: Template) -> None:
        self.redis.hset(KEY, template.key, json.dumps(asdict(template)))

    def for_language(self, language: str | None) -> list[Template]:
        """Templates in the customer's language first, the rest after (an agent may need them)."""
        items = self.all()
        return sorted(items, key=lambda t: (t.short_language != (language or "es"), t.name))


def template_from_event(custom: dict) -> tuple[str, str, list[str]]:
    """(name, language, parameters) of a sent template, for showing it in the history."""
    template = custom.get("template") or {}
    params = []
    for component in template.get("components") or []:
        if component.get("type") == "body":
            params = [str(p.get("text", "")) for p in component.get("parameters") or []]
    language = (template.get("language") or {}).get("code", "")
    return str(template.get("name", "?")), str(language), params
