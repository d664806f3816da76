"""What a message template is and how it is filled in: its definition (components, declared
parameters, buttons) read from templates.yml, Redis or Meta's template list, and Meta's rules for
its parameters. The register (connector/policy/templates.py) keeps these and Meta's statuses.

Parameters are one positional list: the header's (if any) first, then the body's {{1}}, {{2}}…
Each is of a declared type: text, currency ("1250.50 MXN", or a mapping with amount/code) or
date_time (a string or a datetime, shown as given); a text header takes one text parameter.
Meta's rules: no newlines or tabs, no more than 4 consecutive spaces, the filled header within
60 characters and the body within 1024. Quick replies with a declared payload carry it.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from connector.policy.consent import MARKETING, TRANSACTIONAL

CATEGORIES = ("utility", "marketing", "authentication")
STATUSES = ("pending", "approved", "rejected", "paused", "disabled")
QUALITIES = ("green", "yellow", "red", "unknown")
PARAM_TYPES = ("text", "currency", "date_time")
DEFAULT_LANGUAGES = ("es_MX", "en_US")

# Meta's limits on a template and its parameters.
NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2,4})?$")
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
HEADER_MAX, BODY_MAX, FOOTER_MAX = 60, 1024, 60
BUTTONS_MAX, BUTTON_TEXT_MAX, PAYLOAD_MAX = 10, 25, 128
BAD_PARAM_TEXT = re.compile(r"[\n\t]| {5,}")
CURRENCY_RE = re.compile(r"^\s*(?:([A-Z]{3})\s*)?([0-9][0-9,]*(?:\.[0-9]+)?)\s*([A-Z]{3})?\s*$")


class TemplateError(ValueError):
    """A template or its parameters cannot be used; the message says which and why, for an
    agent, a lead or an API client."""


@dataclass(frozen=True)
class Param:
    name: str                    # what it stands for ("total"), shown to whoever fills it in
    type: str = "text"           # one of PARAM_TYPES
    example: str = ""


@dataclass(frozen=True)
class Button:
    type: str                    # QUICK_REPLY | URL | PHONE_NUMBER
    text: str
    payload: str = ""            # a quick reply's payload, sent back when tapped
    url: str = ""
    phone_number: str = ""


@dataclass(frozen=True)
class Component:
    type: str                    # HEADER | BODY | FOOTER | BUTTONS
    text: str = ""
    format: str = ""             # a header's: TEXT (others are media, sent without parameters here)
    params: tuple[Param, ...] = ()
    buttons: tuple[Button, ...] = ()

    def fill(self, values: Sequence[str]) -> str:
        return PLACEHOLDER.sub(lambda m: values[int(m.group(1)) - 1], self.text)


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    category: str
    status: str
    quality: str
    components: tuple[Component, ...]
    id: str = ""
    reason: str = field(default="", compare=False)   # why Meta rejected or paused it

    @property
    def key(self) -> str:
        return f"{self.name}:{self.language}"

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    @property
    def purpose(self) -> str:
        return MARKETING if self.category == "marketing" else TRANSACTIONAL

    @property
    def base_language(self) -> str:
        return self.language.split("_")[0]

    def component(self, kind: str) -> Component | None:
        return next((c for c in self.components if c.type == kind), None)

    @property
    def params(self) -> tuple[Param, ...]:
        """Every parameter in the order they are passed: the header's, then the body's."""
        return tuple(p for kind in ("HEADER", "BODY") for p in (self.component(kind) or Component(kind)).params)

    @property
    def buttons(self) -> tuple[Button, ...]:
        return (self.component("BUTTONS") or Component("BUTTONS")).buttons

    def fill(self, values: Sequence[str]) -> str:
        """What the customer reads, given the display text of each parameter in order."""
        values = list(values) + [""] * (len(self.params) - len(values))
        header, body = self.component("HEADER"), self.component("BODY")
        n_header = len(header.params) if header else 0
        parts = [header.fill(values[:n_header]) if header and header.format == "TEXT" else "",
                 body.fill(values[n_header:]) if body else "",
                 (self.component("FOOTER") or Component("FOOTER")).text]
        return "\n".join(p for p in parts if p)

    def as_dict(self) -> dict:
        """The definition as templates.yml writes it (status and quality kept apart)."""
        return {"name": self.name, "language": self.language, "category": self.category,
                "id": self.id, "components": [_component_dict(c) for c in self.components]}


def _component_dict(c: Component) -> dict:
    out: dict[str, Any] = {"type": c.type}
    if c.format:
        out["format"] = c.format
    if c.text:
        out["text"] = c.text
    if c.params:
        out["params"] = [{"name": p.name, "type": p.type, "example": p.example} for p in c.params]
    if c.buttons:
        out["buttons"] = [{k: v for k, v in (("type", b.type), ("text", b.text), ("payload", b.payload),
                                              ("url", b.url), ("phone_number", b.phone_number)) if v}
                          for b in c.buttons]
    return out


# ---- reading definitions (templates.yml, Meta's list, Redis) ----

def _req_str(item: Mapping, key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(f"{where}: `{key}` is required (a non-empty string).")
    return value


def _params(raw: Any, text: str, where: str, *, header: bool) -> tuple[Param, ...]:
    numbers = [int(n) for n in PLACEHOLDER.findall(text)]
    if sorted(set(numbers)) != list(range(1, len(set(numbers)) + 1)) or len(numbers) != len(set(numbers)):
        raise TemplateError(f"{where}: placeholders must be {{{{1}}}}, {{{{2}}}}… in sequence, each once.")
    if header and len(numbers) > 1:
        raise TemplateError(f"{where}: a text header takes at most one parameter.")
    raw = raw if raw is not None else [{"name": f"{{{{{n}}}}}"} for n in sorted(numbers)]
    if not isinstance(raw, list) or len(raw) != len(numbers):
        raise TemplateError(f"{where}: declares {len(raw) if isinstance(raw, list) else 'no list of'} "
                            f"param(s) for {len(numbers)} placeholder(s).")
    params = []
    for i, p in enumerate(raw, 1):
        if not isinstance(p, Mapping):
            raise TemplateError(f"{where}: param {i} must be a mapping with name and type.")
        kind = str(p.get("type", "text"))
        if kind not in (("text",) if header else PARAM_TYPES):
            allowed = "text" if header else ", ".join(PARAM_TYPES)
            raise TemplateError(f"{where}: param {i} has type {kind!r}; allowed: {allowed}.")
        params.append(Param(str(p.get("name") or f"{{{{{i}}}}}"), kind, str(p.get("example") or "")))
    return tuple(params)


def _buttons(raw: Any, where: str) -> tuple[Button, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= BUTTONS_MAX:
        raise TemplateError(f"{where}: 1 to {BUTTONS_MAX} buttons.")
    out = []
    for i, b in enumerate(raw):
        if not isinstance(b, Mapping):
            raise TemplateError(f"{where}: button {i} must be a mapping.")
        kind = str(b.get("type", "")).upper()
        if kind not in ("QUICK_REPLY", "URL", "PHONE_NUMBER"):
            raise TemplateError(f"{where}: button {i} has type {kind!r} (QUICK_REPLY, URL or PHONE_NUMBER).")
        text = _req_str(b, "text", f"{where} button {i}")
        if len(text) > BUTTON_TEXT_MAX:
            raise TemplateError(f"{where}: button {i} text is longer than {BUTTON_TEXT_MAX} characters.")
        payload = str(b.get("payload") or "")
        if len(payload) > PAYLOAD_MAX:
            raise TemplateError(f"{where}: button {i} payload is longer than {PAYLOAD_MAX} characters.")
        out.append(Button(kind, text, payload, str(b.get("url") or ""), str(b.get("phone_number") or "")))
    return tuple(out)


def _components(raw: Any, where: str) -> tuple[Component, ...]:
    if not isinstance(raw, list) or not raw:
        raise TemplateError(f"{where}: `components` must be a non-empty list.")
    out, seen = [], set()
    for c in raw:
        kind = str((c or {}).get("type", "")).upper() if isinstance(c, Mapping) else ""
        if kind not in ("HEADER", "BODY", "FOOTER", "BUTTONS") or kind in seen:
            raise TemplateError(f"{where}: components are one each of HEADER, BODY, FOOTER, BUTTONS (got {kind or c!r}).")
        seen.add(kind)
        here = f"{where} {kind.lower()}"
        if kind == "BUTTONS":
            out.append(Component(kind, buttons=_buttons(c.get("buttons"), here)))
            continue
        fmt = str(c.get("format", "TEXT" if kind == "HEADER" else "")).upper()
        if kind != "HEADER" or fmt == "TEXT":
            text = _req_str(c, "text", here)
            limit = {"HEADER": HEADER_MAX, "BODY": BODY_MAX, "FOOTER": FOOTER_MAX}[kind]
            if len(text) > limit:
                raise TemplateError(f"{here}: text is longer than {limit} characters.")
            params = () if kind == "FOOTER" else _params(c.get("params"), text, here, header=kind == "HEADER")
            if kind == "FOOTER" and PLACEHOLDER.search(text):
                raise TemplateError(f"{here}: a footer takes no parameters.")
            out.append(Component(kind, text, fmt, params))
        else:
            out.append(Component(kind, format=fmt))
    if "BODY" not in seen:
        raise TemplateError(f"{where}: a BODY component is required.")
    return tuple(out)


def definition(item: Mapping, where: str = "") -> Template:
    """A template's definition from templates.yml or Redis (status and quality to be joined)."""
    if not isinstance(item, Mapping):
        raise TemplateError(f"{where or 'templates'}: each template is a mapping.")
    name = _req_str(item, "name", where or "a template")
    where = f"template {name}" + (f" ({item.get('language')})" if item.get("language") else "")
    if not NAME_RE.match(name):
        raise TemplateError(f"{where}: names are lowercase letters, digits and _ (at most 512).")
    language = _req_str(item, "language", where)
    if not LANGUAGE_RE.match(language):
        raise TemplateError(f"{where}: language {language!r} is not a Meta language code such as es_MX.")
    category = str(item.get("category", "")).lower()
    if category not in CATEGORIES:
        raise TemplateError(f"{where}: category {item.get('category')!r}; one of {', '.join(CATEGORIES)}.")
    return Template(name, language, category, "pending", "unknown",
                    _components(item.get("components"), where), str(item.get("id") or ""))


def file_status(raw: Any, where: str) -> str:
    status = str(raw or "approved").lower()
    if status not in STATUSES:
        raise TemplateError(f"{where}: status {raw!r}; one of {', '.join(STATUSES)}.")
    return status


def normalize_language(code: str | None) -> str:
    """es-mx, ES_MX → es_MX: customers' and Rasa's codes to Meta's spelling."""
    if not code:
        return ""
    base, _, region = code.replace("-", "_").partition("_")
    return f"{base.lower()}_{region.upper()}" if region else base.lower()


# ---- Meta's template list ----

def from_meta(item: Mapping, local: Template | None) -> Template:
    """A definition from an item of Meta's template list. Meta does not say a parameter's type
    or meaning: where the register already has the template (`local`) with as many
    placeholders, its declared params and button payloads are kept, else params are text,
    named by position, with Meta's example."""
    components = []
    for comp in item.get("components") or []:
        comp = dict(comp)
        kind = str(comp.get("type", "")).upper()
        comp["type"] = kind
        if kind in ("HEADER", "BODY") and comp.get("text"):
            mine = local.component(kind) if local else None
            count = len(set(PLACEHOLDER.findall(comp["text"])))
            if mine and len(mine.params) == count:
                comp["params"] = [{"name": p.name, "type": p.type, "example": p.example} for p in mine.params]
            else:
                example = comp.get("example") or {}
                samples = (example.get("body_text") or [[]])[0] if kind == "BODY" else example.get("header_text") or []
                comp["params"] = [{"name": f"{{{{{i + 1}}}}}", "type": "text",
                                   "example": samples[i] if i < len(samples) else ""} for i in range(count)]
        if kind == "BUTTONS" and local and local.buttons:
            payloads = {b.text: b.payload for b in local.buttons}
            comp["buttons"] = [{**b, "payload": b.get("payload") or payloads.get(b.get("text"), "")}
                               for b in comp.get("buttons") or []]
        components.append(comp)
    return definition({**item, "components": components})


# ---- filling in parameters ----

def _text_value(value: Any, where: str) -> str:
    text = value.strip() if isinstance(value, str) else ("" if value is None else str(value))
    if not text:
        raise TemplateError(f"{where} is empty; fill it in.")
    if BAD_PARAM_TEXT.search(text):
        raise TemplateError(f"{where} must be one line: no newlines, tabs or more than 4 spaces in a row.")
    return text


def _currency(value: Any, where: str) -> tuple[dict, str]:
    if isinstance(value, Mapping):
        code = str(value.get("code", "")).upper()
        try:
            amount = float(value["amount_1000"]) / 1000 if "amount_1000" in value else float(value.get("amount"))
        except (TypeError, ValueError):
            raise TemplateError(f"{where} needs an amount (a number).") from None
        fallback = str(value.get("fallback_value") or "")
    else:
        match = CURRENCY_RE.match(str(value or ""))
        if not match or not (match.group(1) or match.group(3)) or (match.group(1) and match.group(3)):
            raise TemplateError(f"{where} is an amount with its currency code, e.g. 1250.50 MXN.")
        code, amount, fallback = match.group(1) or match.group(3), float(match.group(2).replace(",", "")), ""
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise TemplateError(f"{where} needs an ISO 4217 currency code such as MXN or USD.")
    fallback = _text_value(fallback or f"{amount:,.2f} {code}", where)
    return ({"type": "currency", "currency": {"fallback_value": fallback, "code": code,
                                              "amount_1000": round(amount * 1000)}}, fallback)


def _date_time(value: Any, where: str) -> tuple[dict, str]:
    if isinstance(value, dt.datetime):
        value = value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, dt.date):
        value = value.isoformat()
    text = _text_value(value, where)
    return {"type": "date_time", "date_time": {"fallback_value": text}}, text


def _parameter(param: Param, value: Any, where: str) -> tuple[dict, str]:
    where = f"{where} ({param.name})"
    if param.type == "currency":
        return _currency(value, where)
    if param.type == "date_time":
        return _date_time(value, where)
    if isinstance(value, Mapping):
        raise TemplateError(f"{where} is text.")
    text = _text_value(value, where)
    return {"type": "text", "text": text}, text


def fill_in(template: Template, params: Sequence[Any]) -> tuple[dict, str]:
    """The Cloud API `template` object sending `template` with `params`, and the text the
    customer reads; TemplateError naming the parameter that breaks a rule."""
    expected = template.params
    params = list(params)
    if len(params) != len(expected):
        names = ", ".join(f"{p.name} ({p.type})" for p in expected) or "none"
        raise TemplateError(f"Template {template.name} takes {len(expected)} parameter(s), got "
                            f"{len(params)}: {names}.")
    built = [_parameter(p, v, f"Parameter {i}") for i, (p, v) in enumerate(zip(expected, params), 1)]
    header = template.component("HEADER")
    n_header = len(header.params) if header else 0
    values = [text for _, text in built]
    if header and header.format == "TEXT" and len(header.fill(values[:n_header])) > HEADER_MAX:
        raise TemplateError(f"Template {template.name}: the header, filled in, is longer than {HEADER_MAX} characters.")
    if len(template.component("BODY").fill(values[n_header:])) > BODY_MAX:
        raise TemplateError(f"Template {template.name}: the message, filled in, is longer than {BODY_MAX} characters.")
    body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    components: list[dict] = [{"type": kind, "parameters": [b for b, _ in part]}
                              for kind, part in (("header", built[:n_header]), ("body", built[n_header:])) if part]
    for index, button in enumerate(template.buttons):
        if button.type == "QUICK_REPLY" and button.payload:
            components.append({"type": "button", "sub_type": "quick_reply", "index": str(index),
                               "parameters": [{"type": "payload", "payload": button.payload}]})
    if components:
        body["components"] = components
    return body, template.fill(values)


def display_values(template_object: Mapping) -> list[str]:
    """The display text of each parameter of a Cloud API `template` object, header's first."""
    values: dict[str, list[str]] = {"header": [], "body": []}
    for comp in template_object.get("components") or []:
        if isinstance(comp, Mapping) and comp.get("type") in values:
            for p in comp.get("parameters") or []:
                kind = p.get("type") if isinstance(p, Mapping) else None
                if kind == "text":
                    values[comp["type"]].append(str(p.get("text", "")))
                elif kind in ("currency", "date_time"):
                    values[comp["type"]].append(str((p.get(kind) or {}).get("fallback_value", "")))
    return values["header"] + values["body"]


# Meta's template statuses (list items and status webhooks) in the register's words; events
# that say nothing about sendability (FLAGGED: a warning, LIMIT_EXCEEDED) map to None.
META_STATUSES = {
    "APPROVED": "approved", "REINSTATED": "approved", "PENDING": "pending", "IN_APPEAL": "pending",
    "REJECTED": "rejected", "PAUSED": "paused", "DISABLED": "disabled",
    "PENDING_DELETION": "disabled", "DELETED": "disabled", "ARCHIVED": "disabled",
}


def meta_status(raw: Any) -> str | None:
    """The register's status for one of Meta's (APPROVED, PAUSED…), None when it is not one."""
    return META_STATUSES.get(str(raw or "").upper())
