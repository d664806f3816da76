"""Campaigns for leads: an approved marketing template to the contacts opted in for marketing (or
a CSV of contacts), now or at a time; progress and results; stop and resume. The rules are in
connector/outreach/campaigns.py; the worker sends, paced by the tier and throughput.

The CSV has a header row with `wa_id` and, optionally, `param1`, `param2`, … (that contact's
parameters; otherwise the campaign's). Contacts without a marketing opt-in are listed as refused.
"""
from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from connector.outreach.engine import Contact, RequestError
from connector.policy.quality import QualityRegister
from connector.policy.tier import MessagingTier

from .. import services
from ..auth.guard import leads_only
from ..formatting import display_timezone

bp = leads_only(Blueprint("campaigns", __name__, url_prefix="/workspace/campaigns"))
UNPROCESSABLE = 422
MAX_CSV_BYTES = 2 * 1024 * 1024



def _marketing_templates():
    return [t for t in services.current().outreach.templates.all() if t.category == "marketing" and t.approved]


def _index(problems=(), form=None, status=200):
    svc = services.current()
    campaigns = [(c, svc.campaigns.results(c.id)) for c in svc.campaigns.all()]
    # What paces the sends, so a lead knows why a campaign waits.
    tier = MessagingTier(svc.redis, svc.clock).usage()
    pause = QualityRegister(svc.redis, svc.clock).marketing_pause()
    return render_template("workspace/campaigns.html", campaigns=campaigns, templates=_marketing_templates(),
                           problems=list(problems), form=form or {}, tier=tier, pause=pause,
                           opted_in=len(svc.campaigns.audience_from_register())), status


@bp.get("/")
def index():
    return _index()


@bp.post("/")
def create():
    form = request.form
    problems = []
    name, _, language = form.get("template", "").partition(":")
    params = [line.strip() for line in form.get("params", "").splitlines() if line.strip()]
    try:
        at = _local_time(form.get("send_at", ""))
    except ValueError:
        at, problems = None, ["send_at: pick a date and time"]
    try:
        audience = _audience(form.get("audience"))
    except ValueError as exc:
        audience, problems = [], problems + [str(exc)]
    if not problems:
        try:
            campaign, _ = services.current().campaigns.create(
                form.get("name", ""), name, language, params, audience, at, current_user.name)
        except RequestError as exc:
            problems = exc.problems
        else:
            flash(f"Campaign “{campaign.name}” created.", "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return _index(problems, form, UNPROCESSABLE)


@bp.get("/<campaign_id>")
def detail(campaign_id: str):
    campaigns = services.current().campaigns
    campaign = campaigns.get(campaign_id) or abort(404)
    sends = campaigns.sends(campaign_id)
    rows = [(s, campaigns.outcome(s)) for s in sends[:1000]]
    return render_template("workspace/campaign.html", campaign=campaign, rows=rows, shown=len(rows),
                           results=campaigns.results(campaign_id, sends))


# What each button does, and what the lead is told after it.
_ACTIONS = {"stop": ("Stopped: {n} send(s) held. Resume to send them.", "info"),
            "resume": ("Resumed: {n} send(s) back on the schedule.", "success")}


@bp.post("/<campaign_id>/<action>")
def change(campaign_id: str, action: str):
    if action not in _ACTIONS:
        abort(404)
    try:
        count = getattr(services.current().campaigns, action)(campaign_id, current_user.name)
    except KeyError:
        abort(404)
    message, category = _ACTIONS[action]
    flash(message.format(n=count), category)
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id))


def _local_time(raw: str) -> dt.datetime | None:
    """The form's date and time, read in the console's time zone; empty = now."""
    if not raw.strip():
        return None
    local = dt.datetime.fromisoformat(raw.strip())
    zone = display_timezone(current_app.config.get("DISPLAY_TIMEZONE"))
    return local.replace(tzinfo=zone) if local.tzinfo is None else local


def _audience(kind: str | None) -> list[Contact]:
    if kind == "register":
        return [Contact(c) for c in services.current().campaigns.audience_from_register()]
    if kind != "csv":
        raise ValueError("audience: the opted-in contacts or a CSV file")
    upload = request.files.get("csv")
    if upload is None or not upload.filename:
        raise ValueError("csv: choose the file of contacts")
    raw = upload.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        raise ValueError(f"csv: at most {MAX_CSV_BYTES // 1024 // 1024} MB")
    try:
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"csv: not a UTF-8 CSV file ({exc})") from None
    if not rows or "wa_id" not in rows[0]:
        raise ValueError("csv: a header row with a wa_id column, then one contact per row")
    contacts = []
    for row in rows:
        params = [row[k] for k in sorted((k for k in row if k and k.startswith("param") and row[k]),
                                         key=lambda k: int(k[5:]) if k[5:].isdigit() else 0)]
        contacts.append(Contact(row.get("wa_id") or "", params))
    return contacts
