"""The leads' view of what customers asked: the not-understood inbox and FAQ health."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bot import csat
from bot.content.catalog import LANGUAGES

from .. import services
from ..auth.guard import lead_required
from ..formatting import display_timezone
from . import charts

bp = Blueprint("insights", __name__, url_prefix="/workspace")

DEFAULT_DAYS = 14
MAX_DAYS = 366


def _zone():
    return display_timezone(current_app.config.get("DISPLAY_TIMEZONE"))


def _range() -> tuple[date, date]:
    """?from=…&to=… (ISO dates, both included); the last two weeks when absent."""
    today = services.current().clock.now().astimezone(_zone()).date()
    try:
        last = date.fromisoformat(request.args["to"]) if request.args.get("to") else today
        first = (date.fromisoformat(request.args["from"]) if request.args.get("from")
                 else last - timedelta(days=DEFAULT_DAYS - 1))
    except ValueError:
        abort(400, description="Dates are written YYYY-MM-DD.")
    if first > last:
        abort(400, description="The range starts after it ends.")
    if (last - first).days >= MAX_DAYS:
        abort(400, description=f"Choose at most {MAX_DAYS} days.")
    return first, last


@bp.route("/health")
@login_required
@lead_required
def health():
    first, last = _range()
    result = services.current().insights.health(first, last, _zone())
    satisfaction = services.current().csat.results(first, last, _zone())
    return render_template("workspace/health.html", health=result, first=first, last=last,
                           charts=list(charts.CHARTS), csat_days=satisfaction,
                           csat_agents=csat.totals(satisfaction), csat_scores=csat.SCORES)


@bp.route("/health/<name>.svg")
@login_required
@lead_required
def chart(name: str):
    if name not in charts.CHARTS:
        abort(404)
    first, last = _range()
    result = services.current().insights.health(first, last, _zone())
    response = Response(charts.svg(name, result), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = charts.SVG_CSP
    return response


@bp.route("/not-understood")
@login_required
@lead_required
def not_understood():
    groups = services.current().insights.not_understood()
    zone = _zone()
    return render_template("workspace/not_understood.html", groups=groups, faq_keys=services.current().faqs.keys(),
                           local=lambda at: datetime.fromtimestamp(at, zone).strftime("%d %b %H:%M"))


@bp.route("/not-understood/add-example", methods=["POST"])
@login_required
@lead_required
def add_example():
    """The message becomes an example of the FAQ chosen, in its language, and leaves the inbox.
    The text is read from the store, never taken from the form."""
    svc = services.current()
    key, language = request.form.get("faq", ""), request.form.get("language", "")
    try:
        event_id = int(request.form.get("event_id", ""))
    except ValueError:
        abort(400, description="Not a message of the inbox.")
    text = svc.insights.customer_text(event_id)
    if text is None:
        abort(400, description="Not a message of the inbox.")
    if key not in svc.faqs.keys() or language not in LANGUAGES:
        abort(400, description="Choose an FAQ and a language.")
    outcome = svc.faqs.add_example(key, language, text, current_user.name)
    if outcome.status != "written":
        # Checked like any save: e.g. nearly another FAQ's example. Kept as the lead's draft of
        # that FAQ, and the message stays in the inbox until the lead decides.
        problems = "; ".join(m for messages in outcome.problems.values() for m in messages)
        flash(f"“{text}” was not added to {key}: {problems} It is kept as your draft of that FAQ.",
              "warning")
        return redirect(url_for("insights.not_understood"), 303)
    svc.insights.dismiss([event_id], by=current_user.name)
    flash(f"Added “{text}” to {key} ({language}). Customers get it after the next publish.", "success")
    return redirect(url_for("insights.not_understood"), 303)


@bp.route("/not-understood/dismiss", methods=["POST"])
@login_required
@lead_required
def dismiss():
    try:
        ids = [int(i) for i in request.form.getlist("event_id")]
    except ValueError:
        abort(400, description="Not a message of the inbox.")
    if not ids:
        abort(400, description="Choose the messages to dismiss.")
    count = services.current().insights.dismiss(ids, by=current_user.name)
    flash(f"Dismissed {count} message{'s' if count != 1 else ''}.", "success")
    return redirect(url_for("insights.not_understood"), 303)
