"""The template endpoints: Meta's paged list, and the dev controls that play Meta's review and
quality rating (each change sends the webhook Meta would send)."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, jsonify, request

from .errors import invalid
from .templates import TemplateStore

# Template webhooks leave in the order they were made, apart from customers' traffic.
WEBHOOK_KEY = "templates"


def page(store: TemplateStore, req) -> dict:
    """One page of GET /{waba_id}/message_templates, with Meta's cursors and `next` URL."""
    try:
        data, after = store.page(req.args.get("after"), req.args.get("limit", type=int))
    except ValueError:
        raise invalid("limit must be a number") from None
    paging: dict = {"cursors": {"before": req.args.get("after") or "0", "after": after or ""}}
    if after:
        query = {k: v for k, v in req.args.items() if k != "after"}
        paging["next"] = f"{req.base_url}?{urlencode({**query, 'after': after})}"
    return {"data": data, "paging": paging}


def register(app: Flask, emu) -> None:
    def body() -> dict:
        given = request.get_json(silent=True)
        return given if isinstance(given, dict) else {}

    @app.get("/_emulator/templates")
    def templates():
        with emu.templates.lock:
            return jsonify({"data": [dict(t) for t in emu.templates.items]})

    @app.post("/_emulator/templates/<name>/<language>/status")
    def template_status(name: str, language: str):
        given = body()
        payload = emu.templates.set_status(name, language, given.get("status", ""), str(given.get("reason") or ""),
                                           emu.clock.now(), emu.settings.waba_id)
        emu.webhooks.send(payload, WEBHOOK_KEY)
        return jsonify({"webhook": payload})

    @app.post("/_emulator/templates/<name>/<language>/quality")
    def template_quality(name: str, language: str):
        payload = emu.templates.set_quality(name, language, body().get("score", ""), emu.clock.now(),
                                            emu.settings.waba_id)
        emu.webhooks.send(payload, WEBHOOK_KEY)
        return jsonify({"webhook": payload})
