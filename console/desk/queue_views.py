"""The queue page: waiting chats, my chats, claim, and the agent's own online status."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import services
from ..web import wants_json

bp = Blueprint("queue", __name__)


@bp.app_context_processor
def agent_status() -> dict:
    """The online switch in every page's header."""
    if not current_user.is_authenticated:
        return {}
    desk = services.current().desk
    try:
        return {"agent_online": desk.is_online(current_user.name),
                "agent_timeout": desk.agent_timeout_seconds}
    except Exception:  # the header must render even if the handoff store hiccups
        return {"agent_online": None}


def _queue_context() -> dict:
    svc = services.current()
    now = svc.clock.now()
    waiting, mine = svc.desk.waiting(), svc.desk.mine(current_user.name)
    on = svc.labels.on_many(c.conv for c in waiting + mine)
    label = svc.labels.get(request.args.get("label", "")) if request.args.get("label") else None
    if label is not None:  # ?label=: only the chats carrying it
        waiting, mine = ([c for c in chats if label in on[c.conv]] for chats in (waiting, mine))
    return {
        "waiting": waiting,
        "mine": mine,
        "unread": svc.reads.unread(current_user.name, waiting + mine),
        "now": now,
        "chat_labels_of": on, "label": label, "labels": svc.labels.all(),
    }


@bp.route("/")
@login_required
def index():
    return render_template("queue.html", **_queue_context())


@bp.route("/queue/partial")
@login_required
def partial():
    """The two tables only; the page swaps them in when an SSE event says something changed."""
    return render_template("_queue_tables.html", **_queue_context())


@bp.route("/claim/<conv:conversation_id>", methods=["POST"])
@login_required
def claim(conversation_id: str):
    svc = services.current()
    if svc.desk.claim(conversation_id, current_user.name):
        if wants_json():
            return jsonify(ok=True, url=url_for("conversation.view", conversation_id=conversation_id))
        return redirect(url_for("conversation.view", conversation_id=conversation_id))
    chat = svc.desk.chat(conversation_id)
    if chat.agent:
        message = f"Already taken by {chat.agent}."
    else:
        message = "This chat is no longer waiting (the customer may have gone back to the bot)."
    if wants_json():
        return jsonify(ok=False, error=message, agent=chat.agent), 409
    flash(message, "warning")
    return redirect(url_for("queue.index")), 303


@bp.route("/agent/status", methods=["POST"])
@login_required
def set_status():
    online = request.form.get("online", "") in ("1", "true", "on")
    services.current().desk.set_online(current_user.name, online)
    if wants_json():
        return jsonify(ok=True, online=online)
    return redirect(url_for("queue.index"), 303)


@bp.route("/agent/heartbeat", methods=["POST"])
@login_required
def heartbeat():
    services.current().desk.heartbeat(current_user.name)
    return jsonify(ok=True)
