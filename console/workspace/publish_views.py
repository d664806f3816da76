"""Publish (leads only): start a publish, watch its stages live, read why one was refused, the
history with each diff, the saved edits that are not live yet, and roll back to a kept model and
its data/. The work itself is the publish worker's (bot/content/publisher.py); these views only
enqueue and read (bot/content/publish_store.py, bot/content/history.py)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required

from bot.content import history
from bot.content.faq_file import faq_dir
from bot.content.publish_store import FINISHED, PUBLISH, ROLLBACK

from .. import services
from ..auth.guard import lead_required

bp = Blueprint("publish", __name__, url_prefix="/publish")


def unpublished() -> Optional[list[str]]:
    """The data/ files saved since what is live (None before the first publish is recorded)."""
    svc = services.current()
    return history.unpublished(svc.faqs.root, svc.publish)


def unpublished_faqs() -> set[str]:
    """Keys of the FAQs whose file differs from what is live."""
    root = services.current().faqs.root
    return {Path(name).stem for name in unpublished() or () if (root / name).parent == faq_dir(root)}


@bp.route("/")
@login_required
@lead_required
def index():
    store = services.current().publish
    active = store.active()
    return render_template(
        "publish.html", live=store.live(), history=store.history(),
        active=active if active and active["state"] not in FINISHED else None,
        last=store.last(), worker_alive=store.worker_alive(), unpublished=unpublished(),
        at=lambda epoch: datetime.fromtimestamp(epoch, timezone.utc),
    )


@bp.route("/", methods=["POST"])
@login_required
@lead_required
def start():
    job, queued = services.current().publish.enqueue(current_user.name, PUBLISH)
    flash("Publish started." if queued else "A publish is already running; wait for it to finish.",
          "success" if queued else "warning")
    return redirect(url_for("publish.index"), 303)


@bp.route("/rollback/<record_id>", methods=["POST"])
@login_required
@lead_required
def rollback(record_id: str):
    store = services.current().publish
    if store.record(record_id) is None:
        abort(404)
    job, queued = store.enqueue(current_user.name, ROLLBACK, record_id)
    flash("Rollback started." if queued else "A publish is already running; wait for it to finish.",
          "success" if queued else "warning")
    return redirect(url_for("publish.index"), 303)


@bp.route("/jobs/<job_id>")
@login_required
@lead_required
def job(job_id: str):
    found = services.current().publish.job(job_id)
    if found is None:
        abort(404)
    return jsonify(found)
