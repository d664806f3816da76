"""HTTP surface: the Graph API subset the connector uses, test controls, and the chat page."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

from flask import Flask, Response, abort, jsonify, request, send_from_directory

from . import media, profile, rules, template_routes
from .core import Emulator
from .errors import ApiError, bad_param, token_error, unknown_object
from .payloads import ACCOUNT_FIELD, QUALITY_FIELD, account_payload
from .settings import Settings

STATIC = Path(__file__).parent / "static"
VERSION = re.compile(r"^v\d+\.\d+$")


def create_app(settings: Settings | None = None, emulator: Emulator | None = None) -> Flask:
    settings = settings or Settings.from_env()
    emu = emulator or Emulator(settings)
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/_emulator/static")
    app.json.sort_keys = False  # keep Meta's field order (messaging_product first) in responses
    app.extensions["whatsapp_emulator"] = emu

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return jsonify(exc.body()), exc.http, exc.headers

    def check_version(version: str) -> None:
        if not VERSION.match(version):
            abort(404)

    def authorize() -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        token = token or request.args.get("access_token")
        if token != settings.access_token:
            raise token_error(present=bool(token))

    def own_phone(phone_id: str) -> None:
        if phone_id != settings.phone_number_id:
            raise unknown_object(phone_id)

    # ------------------------------------------------------------ Graph API
    @app.post("/<version>/<phone_id>/messages")
    def send_message(version: str, phone_id: str):
        check_version(version)
        authorize()
        own_phone(phone_id)
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
            parse_error = bad_param("The request body is not valid JSON.")
        else:
            parse_error = None
        is_receipt = isinstance(body, dict) and "status" in body
        to = None
        if isinstance(body, dict) and isinstance(body.get("to"), str):
            to = re.sub(r"\D", "", body["to"])
        fault = emu.take_fault(is_receipt, to)
        if fault and fault.get("delay_ms"):
            time.sleep(float(fault["delay_ms"]) / 1000)
        if fault and (error := emu.fault_error(fault)):
            raise error  # before anything is stored: a failed request never creates a message
        if parse_error:
            raise parse_error
        checked = rules.validate_send(body, emu.templates)
        if checked["kind"] == "receipt":
            return jsonify(emu.receipt(checked["message_id"], checked["typing"]))
        return jsonify(emu.accept(body, checked, fault))

    @app.route("/<version>/<phone_id>/whatsapp_business_profile", methods=["GET", "POST"])
    def business_profile(version: str, phone_id: str):
        check_version(version)
        authorize()
        own_phone(phone_id)
        if request.method == "GET":
            return jsonify(profile.read(emu, request.args.get("fields")))
        return jsonify(profile.update(emu, request.get_json(silent=True)))

    @app.get("/<version>/<waba_id>/message_templates")
    def message_templates(version: str, waba_id: str):
        check_version(version)
        authorize()
        if waba_id != settings.waba_id:
            raise unknown_object(waba_id)
        return jsonify(template_routes.page(emu.templates, request))

    # -------------------------------------------------------- test controls
    def control_json() -> dict:
        body = request.get_json(silent=True)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            abort(Response('{"error": "body must be a JSON object"}', 400, mimetype="application/json"))
        return body

    def fail(message: str, status: int = 400):
        return jsonify({"error": message}), status

    @app.get("/_emulator/health")
    def health():
        return jsonify({"ok": True})

    @app.get("/_emulator/config")
    def config():
        return jsonify({"business_name": settings.business_name,
                        "display_phone_number": settings.display_phone_number,
                        "phone_number_id": settings.phone_number_id,
                        "waba_id": settings.waba_id, "api_version": settings.api_version,
                        "webhook_url": settings.webhook_url})

    @app.route("/_emulator/clock", methods=["GET", "POST"])
    def clock():
        if request.method == "POST":
            body = control_json()
            try:
                if "advance_seconds" in body:
                    emu.clock.advance(float(body["advance_seconds"]))
                elif "now" in body:
                    emu.clock.set(float(body["now"]))
                elif body.get("reset"):
                    emu.clock.offset = 0.0
                else:
                    return fail("give advance_seconds, now (unix seconds) or reset: true")
            except (TypeError, ValueError):
                return fail("advance_seconds / now must be numbers")
        return jsonify({"now": int(emu.clock.now()), "offset_seconds": emu.clock.offset})

    @app.route("/_emulator/faults", methods=["GET", "POST", "DELETE"])
    def faults():
        if request.method == "POST":
            body = control_json()
            specs = body.get("next")
            if not isinstance(specs, list):
                return fail('give {"next": [fault, ...]}')
            try:
                emu.add_faults(specs)
            except (TypeError, ValueError) as exc:
                return fail(str(exc))
        elif request.method == "DELETE":
            with emu.lock:
                emu.faults.clear()
        with emu.lock:
            return jsonify({"pending": list(emu.faults)})

    @app.get("/_emulator/messages")
    def messages():
        direction = request.args.get("direction")
        to, from_ = request.args.get("to"), request.args.get("from")
        if to:
            to = to if to.startswith("US.") else re.sub(r"\D", "", to)
        if direction is None and not from_:
            direction = "out"
        return jsonify({"messages": emu.list_messages(to=to, from_=from_, direction=direction)})

    @app.get("/_emulator/webhooks")
    def webhooks():
        with emu.lock:
            return jsonify({"webhooks": list(emu.webhook_log), "pending_jobs": emu.scheduler.pending()})

    @app.post("/_emulator/reset")
    def reset():
        emu.reset()
        return jsonify({"ok": True})

    @app.get("/_emulator/customers")
    def customers():
        with emu.lock:
            return jsonify({"customers": [
                {"wa_id": c["wa_id"], "name": c["name"], "user_id": c["user_id"]}
                for c in emu.customers.values()]})

    @app.post("/_emulator/customers/<wa_id>/messages")
    def customer_message(wa_id: str):
        return jsonify(emu.customer_sends(wa_id, control_json()))

    @app.post("/_emulator/customers/<wa_id>/preferences")
    def customer_preference(wa_id: str):
        return jsonify(emu.customer_preference(wa_id, control_json().get("value")))

    @app.post("/_emulator/account/<field>")
    def account_webhook(field: str):
        """Meta's account-level webhooks: the number's quality and limit, the account's standing."""
        if field not in (QUALITY_FIELD, ACCOUNT_FIELD):
            abort(404)
        payload = account_payload(settings, field, control_json(), emu.clock.now())
        emu.webhooks.send(payload, "account")  # in the order they were asked for
        return jsonify({"webhook": payload})

    @app.post("/_emulator/customers/<wa_id>/seen")
    def customer_seen(wa_id: str):
        ids = control_json().get("ids") or []
        if not isinstance(ids, list):
            return fail("ids must be a list")
        return jsonify({"read": emu.seen(wa_id, [i for i in ids if isinstance(i, str)])})

    @app.get("/_emulator/customers/<wa_id>/chat")
    def customer_chat(wa_id: str):
        state = emu.chat_state(wa_id)
        since = request.args.get("rev", type=int)
        if since is not None and since == state["rev"]:
            # Typing may change without a revision bump, so it is always sent.
            return jsonify({"rev": state["rev"], "unchanged": True, "typing": state["typing"]})
        return jsonify(state)

    # ------------------------------------------------------------ chat page
    @app.get("/favicon.ico")
    def favicon():
        return Response(status=204)

    @app.get("/")
    @app.get("/chat/<wa_id>")
    def chat_page(wa_id: str | None = None):
        response = send_from_directory(STATIC, "chat.html")
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'")
        return response

    media.register(app, emu, check_version=check_version, authorize=authorize, own_phone=own_phone)
    template_routes.register(app, emu)
    return app
