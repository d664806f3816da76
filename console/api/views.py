"""/api/v1: the alerts API. Programs send a template to contacts, now or later, and read what
became of each send; the engine is connector/outreach (the CLI ops/alerts.py uses the same).

Authenticated by a bearer key per client (keys.py; `python -m ops.apikeys create NAME`), not by a
console session, so it is exempt from the console's CSRF check (console/app.py) and nothing else.
Every answer is JSON; a bad request gets 400 (not JSON, wrong types), 422 (the template, its
parameters, a number or the time cannot be used), 409 (the idempotency key was used for another
request), 401 (no or a wrong key), 403 (another client's send) — never a 500.

POST /api/v1/messages
  {"template": "order_confirmation", "language": "es_MX"?, "send_at": "2026-05-01T09:00:00-06:00"?,
   "idempotency_key": "order-A-1042", "contacts": [{"to": "5215512345678", "params": ["A-1042", …]}]}
  → 201 (200 when the same key and request came before):
  {"batch": "b_…", "messages": [{"id": "msg_…", "to": "…", "state": "scheduled" | "refused", "reason": …}]}
GET /api/v1/messages/<id> → the send: state, reason, wamid, delivery {status, times, error}, …
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, g, jsonify, request

from connector.outreach.engine import Contact, Request, RequestError, send_view
from connector.outreach.store import IdempotencyConflict

from .. import services

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_BODY_BYTES = 1024 * 1024


def _error(status: int, message: str, **extra):
    response = jsonify(error=message, **extra)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="alba-api"'
    return response


@bp.before_request
def authenticate():
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return _error(401, "send your API key as `Authorization: Bearer <key>`")
    client = services.current().api_keys.authenticate(key.strip())
    if client is None:
        return _error(401, "this API key is unknown or was revoked")
    g.api_client = client
    return None


@bp.post("/messages")
def submit():
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return _error(413, f"at most {MAX_BODY_BYTES} bytes per request")
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _error(400, "send a JSON object with Content-Type: application/json")
    parsed, problems = _parse(payload)
    if problems:
        return _error(400, "the request is not shaped as documented", problems=problems)
    try:
        result = services.current().outreach.submit(parsed)
    except RequestError as exc:
        return _error(422, "the request cannot be sent as it is", problems=exc.problems)
    except IdempotencyConflict as exc:
        return _error(409, str(exc), batch=exc.batch, messages=exc.ids)
    messages = [{"id": s.id, "to": s.to, "state": s.state, "reason": s.reason or None} for s in result.sends]
    return jsonify(batch=result.batch, messages=messages), 200 if result.existing else 201


@bp.get("/messages/<send_id>")
def status(send_id: str):
    outreach = services.current().outreach
    send = outreach.store.get(send_id)
    if send is None:
        return _error(404, f"no send {send_id}")
    if send.client != g.api_client.scope:
        return _error(403, "this send belongs to another API client")
    return jsonify(send_view(send, outreach.delivery.get(send.wamid) if send.wamid else None))


def _parse(payload: dict) -> tuple[Request | None, list[str]]:
    problems = []
    template, key, language = payload.get("template"), payload.get("idempotency_key"), payload.get("language")
    if not isinstance(template, str):
        problems.append("template: a string")
    if not isinstance(key, str):
        problems.append("idempotency_key: a string, required (the same key repeats the same request)")
    if language is not None and not isinstance(language, str):
        problems.append("language: a string such as es_MX, or absent")
    send_at = payload.get("send_at")
    when = None
    if send_at is not None:
        try:
            when = dt.datetime.fromisoformat(str(send_at).replace("Z", "+00:00"))
        except ValueError:
            problems.append("send_at: an ISO 8601 time such as 2026-05-01T09:00:00-06:00")
    contacts = payload.get("contacts")
    parsed = []
    if not isinstance(contacts, list):
        problems.append("contacts: a list of {to, params}")
    else:
        for index, contact in enumerate(contacts):
            if not isinstance(contact, dict) or not isinstance(contact.get("to"), (str, int)):
                problems.append(f"contacts[{index}]: an object with `to` (the WhatsApp number)")
                continue
            params = contact.get("params", [])
            if not isinstance(params, list) or not all(
                    isinstance(p, (str, int, float)) and not isinstance(p, bool) for p in params):
                problems.append(f"contacts[{index}].params: a list of strings or numbers")
                continue
            parsed.append(Contact(str(contact["to"]), [str(p) for p in params]))
    if problems:
        return None, problems
    return Request(template, parsed, key, g.api_client.scope, language=language or None, send_at=when), []
