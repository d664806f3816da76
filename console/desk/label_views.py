"""Labels: the leads' page that keeps the set, and putting one on (or off) a chat."""
from __future__ import annotations

import functools

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required

from .. import services
from ..auth.guard import lead_required
from ..web import wants_json
from .labels import COLOURS
from .permissions import require_can_act

bp = Blueprint("labels", __name__)


@bp.app_template_global()
def chat_labels(conversation_id: str) -> dict:
    """For the conversation page's labels box: those on the chat and the ones it could get."""
    labels = services.current().labels
    on = labels.on(conversation_id)
    return {"on": on, "off": [label for label in labels.all() if label not in on]}


@bp.route("/labels")
@login_required
@lead_required
def index():
    return render_template("labels.html", labels=services.current().labels.all(), colours=COLOURS)


def _save(write):
    """Create or change a label from the form: write(name, colour) → the Label."""
    try:
        label = write(request.form.get("name", ""), request.form.get("colour", ""))
    except KeyError:
        abort(404)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("labels.index"), 303)
    flash(f"Label {label.name} saved.", "success")
    return redirect(url_for("labels.index"), 303)


@bp.route("/labels", methods=["POST"])
@login_required
@lead_required
def create():
    return _save(services.current().labels.create)


@bp.route("/labels/<label_id>", methods=["POST"])
@login_required
@lead_required
def update(label_id: str):
    return _save(functools.partial(services.current().labels.update, label_id))


@bp.route("/labels/<label_id>/delete", methods=["POST"])
@login_required
@lead_required
def delete(label_id: str):
    if not services.current().labels.delete(label_id):
        abort(404)
    flash("Label deleted; chats and past conversations no longer show it.", "success")
    return redirect(url_for("labels.index"), 303)


@bp.route("/c/<conv:conversation_id>/labels", methods=["POST"])
@login_required
def put(conversation_id: str):
    svc = services.current()
    chat = svc.desk.chat(conversation_id)
    require_can_act(chat)
    label_id = request.form.get("label", "")
    try:
        if request.form.get("on", "1") == "1":
            svc.labels.put(chat, label_id)
        else:
            svc.labels.take_off(chat, label_id)
    except KeyError:
        abort(404, description="No such label.")
    if wants_json():
        return jsonify(ok=True, labels=[label.name for label in svc.labels.on(conversation_id)])
    return redirect(url_for("conversation.view", conversation_id=conversation_id), 303)
