"""Business hours for leads: edit hours.yml, see what the bot would say at a moment, save.

One form does both: "Preview" shows the answers for the edited, unsaved hours; "Save" writes
them, unless someone saved since the page was opened (the form carries the text it was built
from), in which case nothing is written: the page shows the file as saved now and the form
holds it with this lead's changes on top, to check and save again.
"""
from __future__ import annotations

import binascii
import difflib
import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bot.hours import HoursConfigError

from .. import services
from ..auth.guard import leads_only
from ..web import error
from .hours_file import HoursSnapshot, StaleVersion
from .hours_form import DAYS, HoursForm
from .hours_preview import parse_instant, preview

bp = leads_only(Blueprint("hours", __name__, url_prefix="/workspace/hours"))
LANGUAGES = {"es": "Español", "en": "English"}
UNPROCESSABLE, CONFLICT, BROKEN_FILE = 422, 409, 500
log = logging.getLogger(__name__)



@bp.errorhandler(HoursConfigError)
def _broken_file(exc: HoursConfigError):
    # Only a hand edit gets here (saves are checked): the form cannot show what it cannot read.
    return error(BROKEN_FILE, f"The hours file cannot be read, so it cannot be edited here: {exc}. "
                              "Fix it in the file (or ask a developer); the bot keeps the last good hours.")


@bp.route("/")
def index():
    snapshot = services.current().hours.read()
    now = services.current().clock.now().astimezone(snapshot.hours.tz)
    return _page(snapshot.form(), snapshot, {"date": now.date().isoformat(), "time": now.strftime("%H:%M"),
                                             "language": "es"})


@bp.route("/", methods=["POST"])
def submit():
    form = HoursForm.from_request(request.form)
    try:
        base = HoursSnapshot.from_token(request.form.get("base", ""))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        abort(400, description="The form lost the version it was opened at. Reload the page.")
    moment = {key: request.form.get(f"preview-{key}", "").strip() for key in ("date", "time", "language")}
    hours = form.validate()
    if hours is None:
        return _page(form, base, moment), UNPROCESSABLE
    if request.form.get("action") == "save":
        return _save(form, base, moment)
    try:
        at = parse_instant(moment["date"], moment["time"], hours)
    except ValueError:
        form.errors["preview"] = "give a date (YYYY-MM-DD) and a time (HH:MM)"
        return _page(form, base, moment), UNPROCESSABLE
    language = moment["language"] if moment["language"] in LANGUAGES else "es"
    return _page(form, base, moment, said=preview(hours, at, language), at=at)


def _save(form: HoursForm, base: HoursSnapshot, moment: dict):
    try:
        saved = services.current().hours.save(form, base)
    except StaleVersion as stale:
        diff = "".join(difflib.unified_diff(stale.current.text.splitlines(keepends=True),
                                            stale.merged_text.splitlines(keepends=True),
                                            "saved by someone else", "with your changes"))
        return _page(stale.merged, stale.current, moment, conflict=stale, diff=diff), CONFLICT
    diff = difflib.unified_diff(base.text.splitlines(), saved.text.splitlines(), n=0, lineterm="")
    changes = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    log.info("business hours saved by %s: %s", current_user.name, changes)
    flash(f"Business hours saved by {current_user.name}. The bot uses them from its next message.", "success")
    _sync_profile()
    return redirect(url_for("hours.index"), 303)


@bp.route("/profile", methods=["POST"])
def sync_profile():
    _sync_profile()
    return redirect(url_for("hours.index"), 303)


def _sync_profile() -> None:
    # The WhatsApp profile states the hours too. A failure stays on this page (out of date, with
    # the reason) until a sync succeeds: see bot/profile/sync.py.
    result = services.current().profile.sync()
    if not result.ok:
        log.warning("business profile sync failed: %s", result.message)
    flash(result.message, "success" if result.ok else "warning")


def _page(form: HoursForm, base: HoursSnapshot, moment: dict, **extra):
    return render_template("workspace/hours.html", form=form, rows=form.with_new_rows(), days=DAYS,
                           base=base.token, moment=moment, languages=LANGUAGES,
                           profile=services.current().profile.state(), **extra)
