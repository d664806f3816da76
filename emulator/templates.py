"""What Meta approved for this WhatsApp Business Account: the repository's templates.yml, read
here on its own (the emulator shares no code with the connector, so they cannot agree by
accident), with a status and a quality per translation that the dev endpoints change.

A send is checked as Meta checks it: an unknown or not approved translation is 132001, a paused
one 132015, a disabled one 132016; a header or body with the wrong number of parameters is
132000, a parameter of the wrong shape 132012, a text parameter with a newline, a tab or more
than 4 spaces in a row is 100, a body filled past 1024 characters is 132005.
"""
from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any

import yaml

from .errors import ApiError, bad_param, invalid

TEMPLATES_FILE = Path(__file__).resolve().parents[1] / "templates.yml"
STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")
SCORES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
BAD_TEXT = re.compile(r"[\n\t]| {5,}")
BODY_MAX = 1024
DEFAULT_PAGE = 25  # Meta's page size when `limit` is not given


def _template_id(name: str, language: str) -> str:
    """Stable across restarts, numeric like Meta's."""
    return str(int(hashlib.sha256(f"{name}:{language}".encode()).hexdigest()[:12], 16))


def _meta_component(comp: dict) -> dict:
    """A file component as Meta lists it: params become Meta's examples; quick-reply payloads
    are not part of Meta's definition (they come with each send)."""
    kind = str(comp.get("type", "")).upper()
    out: dict[str, Any] = {"type": kind}
    if kind == "BUTTONS":
        out["buttons"] = [{k: v for k, v in b.items() if k != "payload"} for b in comp.get("buttons") or []]
        return out
    if kind == "HEADER":
        out["format"] = str(comp.get("format", "TEXT")).upper()
    if comp.get("text"):
        out["text"] = comp["text"]
    examples = [str(p.get("example") or p.get("name") or "") for p in comp.get("params") or []]
    if examples:
        out["example"] = {"header_text": examples} if kind == "HEADER" else {"body_text": [examples]}
    return out


def read_file(path: Path) -> list[dict]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = []
    for item in data.get("templates") or []:
        name, language = item["name"], item["language"]
        out.append({
            "name": name, "language": language, "status": str(item.get("status", "approved")).upper(),
            "category": str(item["category"]).upper(), "parameter_format": "POSITIONAL",
            "components": [_meta_component(c) for c in item["components"]],
            "quality_score": {"score": "UNKNOWN"}, "id": _template_id(name, language),
        })
    return out


class TemplateStore:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else TEMPLATES_FILE
        self.lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        with self.lock:
            self.items = read_file(self.path)

    def find(self, name: str, language: str) -> dict | None:
        return next((t for t in self.items if t["name"] == name and t["language"] == language), None)

    def page(self, after: str | None, limit: int | None) -> tuple[list[dict], str | None]:
        """(one page of Meta's list, the cursor after it or None on the last page)."""
        start = int(after) if after and after.isdigit() else 0
        size = max(1, min(int(limit or DEFAULT_PAGE), 1000))
        with self.lock:
            data = [dict(t) for t in self.items[start:start + size]]
            more = start + size < len(self.items)
        return data, str(start + size) if more else None

    # ---- what Meta changes, and the webhooks it sends about it ----

    def set_status(self, name: str, language: str, status: str, reason: str, now: float,
                   waba_id: str) -> dict:
        """The new status and the `message_template_status_update` webhook announcing it."""
        status = str(status).upper()
        if status not in STATUSES:
            raise invalid(f"status must be one of {', '.join(STATUSES)}")
        with self.lock:
            template = self._known(name, language)
            template["status"] = status
        value: dict[str, Any] = {
            "event": status, "message_template_id": int(template["id"]), "message_template_name": name,
            "message_template_language": language, "reason": reason or "NONE",
            "message_template_category": template["category"],
        }
        if status in ("PAUSED", "DISABLED") and reason:
            value["other_info"] = {"title": "FIRST_PAUSE" if status == "PAUSED" else "DISABLED",
                                   "description": reason}
        return waba_envelope(waba_id, now, value, "message_template_status_update")

    def set_quality(self, name: str, language: str, score: str, now: float, waba_id: str) -> dict:
        """The new quality and the `message_template_quality_update` webhook announcing it."""
        score = str(score).upper()
        if score not in SCORES:
            raise invalid(f"score must be one of {', '.join(SCORES)}")
        with self.lock:
            template = self._known(name, language)
            previous = template["quality_score"]["score"]
            template["quality_score"] = {"score": score, "date": int(now)}
        return waba_envelope(waba_id, now, {
            "previous_quality_score": previous, "new_quality_score": score,
            "message_template_id": int(template["id"]), "message_template_name": name,
            "message_template_language": language}, "message_template_quality_update")

    def _known(self, name: str, language: str) -> dict:
        template = self.find(name, language)
        if template is None:
            raise invalid(f"no template {name} in {language}")
        return template

    # ---- a send ----

    def check(self, template: dict) -> dict:
        """The definition a `template` object of a send refers to, checked as Meta does."""
        name, code = template["name"], template["language"]["code"]
        with self.lock:
            definition = self.find(name, code)
            definition = dict(definition) if definition else None
        if definition is None or definition["status"] in ("PENDING", "REJECTED"):
            raise ApiError(132001, f"template name ({name}) does not exist in {code}")
        if definition["status"] == "PAUSED":
            raise ApiError(132015, f"Template {name} ({code}) is paused because of low quality.")
        if definition["status"] == "DISABLED":
            raise ApiError(132016, f"Template {name} ({code}) is disabled.")
        given = _given(template.get("components"))
        texts = {c["type"].lower(): c.get("text", "") for c in definition["components"] if c["type"] in ("HEADER", "BODY")}
        filled = {}
        for part in ("header", "body"):
            params = given.get(part, [])
            expected = len(set(PLACEHOLDER.findall(texts.get(part, ""))))
            if len(params) != expected:
                raise ApiError(132000, f"{part}: number of localizable_params ({len(params)}) does not "
                                       f"match the expected number of params ({expected})")
            filled[part] = [_display(p) for p in params]
        if len(_fill(texts.get("body", ""), filled["body"])) > BODY_MAX:
            raise ApiError(132005, f"body: the filled-in text is longer than {BODY_MAX} characters")
        buttons = next((c["buttons"] for c in definition["components"] if c["type"] == "BUTTONS"), [])
        for index in given.get("quick_reply", []):
            if not 0 <= index < len(buttons) or buttons[index]["type"] != "QUICK_REPLY":
                raise invalid(f"button at index {index} is not a quick-reply button of the template")
        return definition


def _given(components: Any) -> dict:
    if components is None:
        return {}
    if not isinstance(components, list):
        raise bad_param("Param template['components'] must be an array.")
    out: dict[str, list] = {}
    for comp in components:
        if not isinstance(comp, dict):
            raise bad_param("Param template['components'][] must be a JSON object.")
        kind = comp.get("type")
        if kind in ("header", "body"):
            params = comp.get("parameters") or []
            if not isinstance(params, list):
                raise bad_param(f"Param template['components'][{kind}]['parameters'] must be an array.")
            out[kind] = params
        elif kind == "button" and comp.get("sub_type") == "quick_reply":
            try:
                out.setdefault("quick_reply", []).append(int(comp.get("index", -1)))
            except (TypeError, ValueError):
                raise invalid("Param button['index'] must be a number.") from None
    return out


def _display(param: Any) -> str:
    """What the customer reads for one parameter; ApiError for a shape Meta refuses."""
    kind = param.get("type") if isinstance(param, dict) else None
    if kind == "text" and isinstance(param.get("text"), str) and param["text"].strip():
        if BAD_TEXT.search(param["text"]):
            raise bad_param("Param text cannot have new-line/tab characters or more than 4 consecutive spaces")
        return param["text"]
    if kind == "currency" and isinstance(param.get("currency"), dict):
        cur = param["currency"]
        if isinstance(cur.get("fallback_value"), str) and isinstance(cur.get("code"), str) \
                and isinstance(cur.get("amount_1000"), int):
            return cur["fallback_value"]
    if kind == "date_time" and isinstance(param.get("date_time"), dict) \
            and isinstance(param["date_time"].get("fallback_value"), str):
        return param["date_time"]["fallback_value"]
    raise ApiError(132012, "Parameter format does not match format in the created template: "
                           "text {text}, currency {fallback_value, code, amount_1000} or date_time {fallback_value}.")


def _fill(text: str, values: list[str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[int(m.group(1)) - 1] if int(m.group(1)) <= len(values) else m.group(0), text)


def render(definition: dict, components: list | None) -> dict:
    """What the customer's phone shows for a template send: filled text plus quick replies."""
    given = {"header": [], "body": []}
    payloads: dict[int, str] = {}
    for comp in components or []:
        if comp.get("type") in given:
            given[comp["type"]] = [_display(p) for p in comp.get("parameters") or []]
        elif comp.get("type") == "button" and comp.get("sub_type") == "quick_reply":
            for p in comp.get("parameters") or []:
                if p.get("type") == "payload":
                    payloads[int(comp.get("index", 0))] = p.get("payload", "")
    out: dict[str, Any] = {"buttons": []}
    for comp in definition["components"]:
        if comp["type"] in ("HEADER", "BODY"):
            out[comp["type"].lower()] = _fill(comp.get("text", ""), given[comp["type"].lower()])
        elif comp["type"] == "FOOTER":
            out["footer"] = comp.get("text", "")
        elif comp["type"] == "BUTTONS":
            out["buttons"] = [{"text": b["text"], "payload": payloads.get(i, b["text"])}
                              for i, b in enumerate(comp["buttons"])]
    return out


def waba_envelope(waba_id: str, now: float, value: dict, field: str) -> dict:
    """Account-level webhooks (templates) carry no phone-number metadata, unlike messages."""
    return {"object": "whatsapp_business_account", "entry": [{
        "id": waba_id, "time": int(now), "changes": [{"value": value, "field": field}]}]}
