"""Consent for leads: the contacts with a change, one contact's state and history, recording an
opt-in or opt-out, importing a CSV (preview first, then apply) and exporting one.

The CSV format, its per-row checks and the import summary are connector/policy/consent_csv.py's,
the same the CLI (`python -m ops.consent`) uses. An upload is kept in Redis between the preview
and "Apply" (`console:consent:import:{id}`, JSON {text, name, lead}, IMPORT_TTL), so the lead
uploads once; a bad row is rejected alone, listed with its line and reason, and the good rows
can still be applied.
"""
from __future__ import annotations

import io
import json
import secrets

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from connector.policy import consent_csv
from connector.policy.consent import OPTED_IN, OPTED_OUT, PURPOSES, SOURCE_LABELS

from .. import services
from ..auth.guard import leads_only
from ..desk.customer import consent_words, mask_number
from ..web import error

bp = leads_only(Blueprint("consent", __name__, url_prefix="/workspace/consent"))
PAGE_SIZE = 50
# ~20 000 rows; bigger lists go through `python -m ops.consent import`.
MAX_UPLOAD_BYTES = 1024 * 1024
IMPORT_TTL = 30 * 60
PREVIEW_ROWS = 200
TOO_LARGE, UNPROCESSABLE = 413, 422
STATE_WORDS = {OPTED_IN: "Opt in", OPTED_OUT: "Opt out"}


class ImportGone(Exception):
    """The upload's preview expired or was applied already."""


def _import_key(import_id: str) -> str:
    return f"console:consent:import:{import_id}"



@bp.errorhandler(ImportGone)
def _gone(exc: ImportGone):
    return error(410, "This import expired or was already applied. Upload the file again.")


@bp.route("/")
def index():
    register = services.current().consent
    page = max(request.args.get("page", 1, type=int), 1)
    total, contacts = register.recent((page - 1) * PAGE_SIZE, PAGE_SIZE)
    rows = [{"contact": contact, "number": mask_number(contact), "at": at,
             "status": register.status(contact)} for contact, at in contacts]
    return render_template("workspace/consent.html", rows=rows, page=page, total=total,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), purposes=PURPOSES,
                           columns=",".join(consent_csv.COLUMNS), max_kb=MAX_UPLOAD_BYTES // 1024)


@bp.route("/find", methods=["POST"])
def find():
    # A POST, so the number the lead typed stays out of URLs and browser history.
    try:
        contact = consent_csv.contact_id(request.form.get("wa_id", ""))
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("consent.index"), 303)
    return redirect(url_for("consent.contact", contact=contact), 303)


@bp.route("/<conv:contact>")
def contact(contact: str):
    register = services.current().consent
    return render_template("workspace/consent_contact.html", contact=contact, number=mask_number(contact),
                           status=register.status(contact), history=register.history(contact),
                           consent_words=consent_words, sources=SOURCE_LABELS, purposes=PURPOSES,
                           states=STATE_WORDS, nonce=secrets.token_hex(8))


@bp.route("/<conv:contact>", methods=["POST"])
def record(contact: str):
    purpose, state = request.form.get("purpose", ""), request.form.get("state", "")
    if purpose not in PURPOSES or state not in STATE_WORDS:
        abort(400, description="Choose a purpose and opt in or opt out.")
    # The form's nonce is the change's ref: a double submit is a redelivery, recorded once.
    ref = "console:" + (request.form.get("nonce", "")[:32] or secrets.token_hex(8))
    applied = services.current().consent.record(contact, purpose, state, "console",
                                                by=current_user.name, ref=ref)
    if applied:
        flash(f"{purpose.capitalize()}: {state.replace('_', ' ')}, recorded by {current_user.name}.", "success")
    else:
        flash("Already recorded (the form was sent twice).", "info")
    return redirect(url_for("consent.contact", contact=contact), 303)


@bp.route("/import", methods=["POST"])
def upload():
    if (request.content_length or 0) > MAX_UPLOAD_BYTES + 64 * 1024:
        return error(TOO_LARGE, _too_large())
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a CSV file to import.", "error")
        return redirect(url_for("consent.index"), 303)
    data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return error(TOO_LARGE, _too_large())
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return error(UNPROCESSABLE, "The file is not UTF-8 text. Save it as CSV (UTF-8) and upload it again.")
    import_id = secrets.token_hex(12)
    services.current().redis.set(_import_key(import_id), json.dumps(
        {"text": text, "name": upload.filename, "lead": current_user.name}), ex=IMPORT_TTL)
    return redirect(url_for("consent.preview", import_id=import_id), 303)


@bp.route("/import/<import_id>")
def preview(import_id: str):
    pending = _pending(import_id)
    parsed = consent_csv.read(io.StringIO(pending["text"]))
    effects = consent_csv.preview(services.current().consent, parsed.rows)
    counts: dict[str, int] = {}
    for effect in effects:
        counts[effect.effect] = counts.get(effect.effect, 0) + 1
    return render_template("workspace/consent_import.html", import_id=import_id, name=pending["name"],
                           effects=effects[:PREVIEW_ROWS], total=len(effects), counts=counts,
                           changing=sum(e.changes for e in effects), rejected=parsed.rejected,
                           shown=PREVIEW_ROWS, mask=mask_number)


@bp.route("/import/<import_id>", methods=["POST"])
def apply(import_id: str):
    pending = _pending(import_id)
    parsed = consent_csv.read(io.StringIO(pending["text"]))
    summary = consent_csv.apply(services.current().consent, parsed.rows, current_user.name,
                                rejected=len(parsed.rejected))
    services.current().redis.delete(_import_key(import_id))
    flash(f"{pending['name']}: {summary.text()}.", "success")
    return redirect(url_for("consent.index"), 303)


@bp.route("/export.csv")
def export():
    out = io.StringIO()
    consent_csv.export(services.current().consent, out)
    stamp = services.current().clock.now().strftime("%Y%m%d-%H%M")
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="consent-{stamp}.csv"'})


def _pending(import_id: str) -> dict:
    raw = services.current().redis.get(_import_key(import_id)) if import_id.isalnum() else None
    if raw is None:
        raise ImportGone(import_id)
    return json.loads(raw)


def _too_large() -> str:
    return (f"The file is larger than {MAX_UPLOAD_BYTES // 1024} KB. Split it, or import it with "
            "`python -m ops.consent import FILE`.")
