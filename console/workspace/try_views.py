"""Try it (leads only): ask as a customer would and see which FAQ the draft model picks, how sure
it is, and what the customer would get. The publish worker answers (bot/content/try_server.py);
these views only ask and read (bot/content/try_store.py), and console/static/try.js polls."""
from __future__ import annotations

import time

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from bot.content.publish_store import FINISHED as PUBLISH_FINISHED, RUNNING
from bot.content.try_store import BUILDING, DONE, FINISHED

from .. import services
from ..auth.guard import lead_required
from .try_answer import answer_of

bp = Blueprint("try_it", __name__, url_prefix="/try")

# A WhatsApp text is at most 4096 characters; a question is far shorter.
MAX_QUESTION = 1000


@bp.route("/")
@login_required
@lead_required
def index():
    return render_template("try.html", worker_alive=services.current().publish.worker_alive(),
                           question=request.args.get("q", ""))


@bp.route("/ask", methods=["POST"])
@login_required
@lead_required
def ask():
    question = " ".join(request.form.get("question", "").split())
    if not question or len(question) > MAX_QUESTION:
        return jsonify(error=f"Type a question (at most {MAX_QUESTION} characters)."), 400
    asked = services.current().tries.ask(question, current_user.name)
    return jsonify(id=asked["id"], url=url_for("try_it.answer", request_id=asked["id"])), 202


def waiting(request_state: str) -> str:
    """Why the question is not answered yet, in the lead's words."""
    svc = services.current()
    draft = svc.tries.draft() or {}
    if request_state == BUILDING or draft.get("state") == BUILDING:
        since = max(0, round(time.time() - draft.get("started", time.time())))
        return f"Building the draft model from the saved FAQs… ({since} s so far)"
    job = svc.publish.active()
    if job is not None and job["state"] not in PUBLISH_FINISHED:
        doing = f"is running ({job.get('stage') or 'starting'})" if job["state"] == RUNNING else "goes first"
        return f"A publish by {job['user']} {doing}: your question is answered right after it."
    if not svc.publish.worker_alive():
        return "The publish worker is not running: your question waits until it starts (make run starts it)."
    return "Asking the draft model…"


@bp.route("/ask/<request_id>")
@login_required
@lead_required
def answer(request_id: str):
    asked = services.current().tries.request(request_id)
    if asked is None:
        abort(404)
    if asked["state"] not in FINISHED:
        return jsonify(state=asked["state"], waiting=waiting(asked["state"]))
    html = render_template("_try_result.html", asked=asked,
                           answer=answer_of(asked["result"], services.current().faqs.root)
                           if asked["state"] == DONE else None)
    return jsonify(state=asked["state"], html=html)

