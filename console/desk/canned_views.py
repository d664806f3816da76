"""Canned replies: everyone reads them (the conversation page), leads add and remove them."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from .. import services
from ..auth.guard import lead_required
from .canned import LANGUAGES

bp = Blueprint("canned", __name__, url_prefix="/canned")


@bp.route("/")
@login_required
def index():
    return render_template("canned.html", canned=services.current().canned.all(), languages=LANGUAGES)


@bp.route("/", methods=["POST"])
@login_required
@lead_required
def add():
    try:
        services.current().canned.add(request.form.get("language", ""), request.form.get("title", ""),
                              request.form.get("text", ""))
    except ValueError as exc:
        flash(str(exc), "error")
        return render_template("canned.html", canned=services.current().canned.all(), languages=LANGUAGES), 400
    flash("Canned reply added.", "success")
    return redirect(url_for("canned.index"), 303)


@bp.route("/<language>/<reply_id>/delete", methods=["POST"])
@login_required
@lead_required
def delete(language: str, reply_id: str):
    if services.current().canned.delete(language, reply_id):
        flash("Canned reply removed.", "success")
    return redirect(url_for("canned.index"), 303)
