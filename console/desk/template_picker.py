"""The conversation page's template picker: the register's approved templates, the customer's
language first, each with its parameters (name, type, example) and a preview to fill in."""
from __future__ import annotations

import json
from dataclasses import dataclass

from connector.policy.templates import Template, TemplateRegister

# What an agent types for each parameter type (the register reads these forms).
TYPE_HINTS = {"text": "text", "currency": "amount and currency, e.g. 1250.50 MXN",
              "date_time": "date and time, as the customer should read it"}


@dataclass(frozen=True)
class Option:
    template: Template

    @property
    def key(self) -> str:
        return self.template.key

    @property
    def label(self) -> str:
        t = self.template
        return f"{t.name} · {t.language} · {t.category}"

    @property
    def params_json(self) -> str:
        return json.dumps([{"name": p.name, "type": p.type, "hint": TYPE_HINTS[p.type], "example": p.example}
                           for p in self.template.params], ensure_ascii=False)

    @property
    def preview(self) -> str:
        """The text with [[n]] where parameter n goes (console.js fills them in as typed)."""
        return self.template.fill([f"[[{i}]]" for i in range(1, len(self.template.params) + 1)])


def options(register: TemplateRegister, language: str | None) -> list[Option]:
    """Only approved templates: the others would be refused by WhatsApp."""
    return [Option(t) for t in register.ranked(language) if t.approved]


def max_params(items: list[Option]) -> int:
    return max((len(o.template.params) for o in items), default=0)
