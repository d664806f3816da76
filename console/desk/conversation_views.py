"""One conversation: history from Rasa, customer info, and every action an agent takes on it."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bot.customer_events import CustomerEvents
from connector.policy import outbound
from connector.policy.templates import TemplateError

from .. import services
from ..web import wants_json
from bot import csat
from . import delivery, template_picker, window
from .chats import ASSIGNED, DeskError
from .customer import CustomerInfo, consent_words, mask_number
from .history import latest_slot, messages_from_tracker
from .permissions import can_act, require_can_act
from .rasa_client import RasaError
from .unanswered import WARNING as UNANSWERED_WARNING, unanswered

log = logging.getLogger(__name__)
bp = Blueprint("conversation", __name__, url_prefix="/c")
bp.add_app_template_filter(window.reason_text, "window_reason")
bp.add_app_template_filter(unanswered, "unanswered")
bp.add_app_template_global(UNANSWERED_WARNING, "unanswered_warning")

# WhatsApp's limit for a text body.
MAX_TEXT = 4096


def _history(conversation_id: str):
    """(messages, tracker, error): the page still opens when Rasa is down, just without history."""
    try:
        tracker = services.current().rasa.tracker(conversation_id)
    except RasaError as exc:
        return [], {}, f"Could not load the history: {exc}"
    events = CustomerEvents(services.current().redis).of(conversation_id)
    messages = messages_from_tracker(tracker, services.current().templates.text_of, events)
    delivery.annotate(conversation_id, messages)
    return messages, tracker, None


def _page(conversation_id: str, status: int = 200, error: str | None = None, draft: str = "", **extra):
    svc = services.current()
    chat = svc.desk.chat(conversation_id)
    svc.reads.mark_read(current_user.name, chat)  # before the chat list beside it is drawn
    messages, tracker, history_error = _history(conversation_id)
    language = chat.language or latest_slot(tracker, "language") or "es"
    customer = CustomerInfo(
        name=chat.name or "(no profile name)",
        number=mask_number(conversation_id),
        language=language,
        consent=svc.consent.status(conversation_id),
    )
    window_status = window.status(conversation_id)
    others = [a for a in svc.desk.online_agents() if a != current_user.name]
    templates = template_picker.options(svc.templates, language)
    return render_template(
        "conversation.html",
        chat=chat, customer=customer, messages=messages, history_error=history_error,
        window=window_status, sendable_until=window.sendable_until(window_status), now=svc.clock.now(),
        can_act=can_act(current_user, chat), notes=svc.notes.list(conversation_id),
        canned=svc.canned.for_language(language if language in ("es", "en") else "es"),
        templates=templates, template_params=template_picker.max_params(templates), failures=delivery.failures(conversation_id),
        transfer_targets=others, error=error, draft=draft, consent_words=consent_words, **extra,
    ), status


def _fail(conversation_id: str, status: int, message: str, draft: str = ""):
    if wants_json():
        return jsonify(ok=False, error=message), status
    return _page(conversation_id, status=status, error=message, draft=draft)


def _done(conversation_id: str, message: str | None = None, **extra):
    if wants_json():
        return jsonify(ok=True, message=message, **extra)
    if message:
        flash(message, "success")
    return redirect(url_for("conversation.view", conversation_id=conversation_id), 303)


@bp.route("/<conv:conversation_id>")
@login_required
def view(conversation_id: str):
    return _page(conversation_id)


@bp.route("/<conv:conversation_id>/history")
@login_required
def history(conversation_id: str):
    # Fetched by the open conversation when the customer writes: the agent sees it now.
    svc = services.current()
    svc.reads.mark_read(current_user.name, svc.desk.chat(conversation_id))
    messages, _, history_error = _history(conversation_id)
    return render_template("_history.html", messages=messages, history_error=history_error)


@bp.route("/<conv:conversation_id>/window", endpoint="window")
@login_required
def window_status(conversation_id: str):
    status = window.status(conversation_id)
    until = window.sendable_until(status)
    return jsonify(open=bool(status.open), reason=window.reason_text(status.reason),
                   closes_at=until.isoformat() if until else None,
                   now=services.current().clock.now().isoformat())


@bp.route("/<conv:conversation_id>/reply", methods=["POST"])
@login_required
def reply(conversation_id: str):
    svc = services.current()
    text = request.form.get("text", "").strip()
    require_can_act(svc.desk.chat(conversation_id))
    if not text:
        return _fail(conversation_id, 400, "Write a reply first.")
    if len(text) > MAX_TEXT:
        return _fail(conversation_id, 400, f"WhatsApp messages are limited to {MAX_TEXT} characters.", text)
    # The form may have been rendered while the window was open: decide on the server, now.
    status = window.status(conversation_id)
    if not status.open:
        return _fail(conversation_id, 409,
                     "The 24-hour customer service window is closed, so WhatsApp does not allow "
                     "free-form messages. Send an approved template instead; the reply was not sent.",
                     text)
    try:
        svc.rasa.send_text(conversation_id, text, current_user.name)
    except RasaError as exc:
        return _fail(conversation_id, 502, f"The reply was not sent: {exc}", text)
    return _done(conversation_id)


@bp.route("/<conv:conversation_id>/template", methods=["POST"])
@login_required
def send_template(conversation_id: str):
    svc = services.current()
    require_can_act(svc.desk.chat(conversation_id))
    name, _, language = request.form.get("template", "").partition(":")
    template = svc.templates.get(name, language)
    if template is None:
        return _fail(conversation_id, 400, "Unknown template; pick one from the list.")
    try:
        prepared = svc.templates.prepare(
            name, language, [request.form.get(f"p{i}", "") for i in range(1, len(template.params) + 1)])
    except TemplateError as exc:
        return _fail(conversation_id, 400, f"The template was not sent: {exc}")
    # The sender asks the gate again when it sends; asking first tells the agent why at once.
    verdict = svc.gate.check(conversation_id, prepared.body, reserve=False)
    if verdict.outcome != outbound.SEND:
        return _fail(conversation_id, 409, f"The template was not sent: {verdict.reason}.")
    try:
        svc.rasa.send_template(conversation_id, prepared.body, current_user.name)
    except RasaError as exc:
        return _fail(conversation_id, 502, f"The template was not sent: {exc}")
    return _done(conversation_id, f"Template {name} ({language}) sent.")


@bp.route("/<conv:conversation_id>/notes", methods=["POST"])
@login_required
def add_note(conversation_id: str):
    svc = services.current()
    require_can_act(svc.desk.chat(conversation_id))
    try:
        svc.notes.add(conversation_id, current_user.name, request.form.get("text", ""))
    except ValueError as exc:
        return _fail(conversation_id, 400, str(exc))
    return _done(conversation_id, "Note saved.")


@bp.route("/<conv:conversation_id>/transfer", methods=["POST"])
@login_required
def transfer(conversation_id: str):
    svc = services.current()
    chat = svc.desk.chat(conversation_id)
    require_can_act(chat)
    target = request.form.get("to", "").strip() or None
    if target is not None and target not in svc.desk.online_agents():
        return _fail(conversation_id, 409, f"{target} is not online; pick an online agent or the queue.")
    try:
        svc.desk.transfer(conversation_id, current_user.name, target, is_lead=current_user.is_lead)
    except DeskError as exc:
        return _fail(conversation_id, 409, f"Could not transfer: {exc}")
    message = f"Transferred to {target}." if target else "Returned to the queue."
    if wants_json():
        return jsonify(ok=True, message=message)
    flash(message, "success")
    return redirect(url_for("queue.index"), 303)


@bp.route("/<conv:conversation_id>/resolve", methods=["POST"])
@login_required
def resolve(conversation_id: str):
    svc = services.current()
    chat = svc.desk.chat(conversation_id)
    require_can_act(chat)
    if chat.state != ASSIGNED:
        return _fail(conversation_id, 409, "Only a chat that is assigned to an agent can be resolved.")
    if request.form.get("confirm") != "1":
        # Decided on the server, on the history as it is now: the page may be older.
        pending = unanswered(_history(conversation_id)[0])
        if pending is not None:
            if wants_json():
                return jsonify(ok=False, error=UNANSWERED_WARNING, unanswered=pending.text,
                               confirm={"confirm": "1"}), 409
            return _page(conversation_id, status=409, resolve_warning=pending.text)
    try:
        svc.desk.resolve(conversation_id, current_user.name, is_lead=current_user.is_lead)
    except DeskError as exc:
        return _fail(conversation_id, 409, f"Could not resolve: {exc}")
    language = chat.language if chat.language in ("es", "en") else "es"
    # Free-form messages outside the window would be refused by WhatsApp; resume silently then.
    survey = None
    if window.status(conversation_id).open:
        closing = current_app.config["CLOSING_MESSAGE"].get(language)
        survey = svc.csat.ask(conversation_id, current_user.name)
    else:
        closing = None
    try:
        svc.rasa.resume_bot(conversation_id, closing, current_user.name,
                            survey=csat.question(language) if survey else None)
    except RasaError as exc:
        if survey:
            svc.csat.withdraw(conversation_id, survey)
        # Left as it is, the chat would be with the bot for the handoff but paused in Rasa: a
        # bot that stays silent for good, and nobody holds the chat to retry. Give it back to
        # its agent; if Rasa did resume it after all, the connector pauses it again while a
        # person holds the chat.
        try:
            svc.desk.reopen(conversation_id, chat.agent)
        except Exception:
            log.exception("could not give %s back to %s after a failed resume", conversation_id, chat.agent)
        return _fail(conversation_id, 502,
                     f"Not resolved: the bot could not be resumed ({exc}). The chat is back with "
                     f"{chat.agent}; try again, or ask an admin to check Rasa.")
    svc.labels.close(chat, svc.clock.now().timestamp())
    if wants_json():
        return jsonify(ok=True, message="Resolved; the assistant has the conversation again.")
    flash("Resolved; the assistant has the conversation again.", "success")
    return redirect(url_for("queue.index"), 303)
