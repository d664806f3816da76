"""The supervisor page (leads): every open chat with its agent, wait and window, every agent's
presence and load, and reassigning a chat to an online agent or back to the queue; a waiting
chat can be given to an online agent straight from the queue."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from .. import services
from ..auth.guard import leads_only
from ..web import wants_json
from . import supervisor
from .chats import WAITING, DeskError

bp = leads_only(Blueprint("supervisor", __name__, url_prefix="/supervisor"))
# The reassign form's "back to the queue": explicit, so a form sent without a choice (or whose
# chosen agent vanished from the list) moves nothing. "@" is never in a user name.
TO_QUEUE = "@queue"


def _context() -> dict:
    svc = services.current()
    chats = supervisor.open_chats(svc.desk)
    agents = supervisor.agents(svc.desk, svc.users.all(), chats)
    return {"chats": chats, "agents": agents, "online": [a.name for a in agents if a.online],
            "now": svc.clock.now(), "to_queue": TO_QUEUE}


@bp.route("/")
def index():
    return render_template("supervisor.html", **_context())


@bp.route("/partial")
def partial():
    """The tables only; supervisor.js swaps them in on every handoff event and every half minute."""
    return render_template("_supervisor_tables.html", **_context())


@bp.route("/reassign/<conv:conversation_id>", methods=["POST"])
def reassign(conversation_id: str):
    svc = services.current()
    choice = request.form.get("to", "").strip()
    if not choice:
        return _refused("Pick an online agent or the queue.", 400)
    target = None if choice == TO_QUEUE else choice
    chat = svc.desk.chat(conversation_id)
    before = chat.agent or "the queue"
    try:
        # Handoff checks, in the same step as the move, the chat's state and that the target is online.
        if chat.state == WAITING and target:
            svc.desk.assign(conversation_id, target, current_user.name)
        else:
            svc.desk.transfer(conversation_id, current_user.name, target, is_lead=True)
    except DeskError as exc:
        return _refused(f"Could not reassign: {exc}", 409)
    name = chat.name or "the chat"
    svc.audit.record(current_user.name, "reassign", name, f"{before} → {target or 'the queue'}")
    message = f"Moved {name} from {before} to {target}." if target else f"Moved {name} from {before} back to the queue."
    if wants_json():
        return jsonify(ok=True, message=message)
    flash(message, "success")
    return redirect(url_for("supervisor.index"), 303)


def _refused(message: str, status: int):
    if wants_json():
        return jsonify(ok=False, error=message), status
    flash(message, "error")
    return redirect(url_for("supervisor.index"), 303)
