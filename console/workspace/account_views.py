"""The WhatsApp account page for leads: quality and its history, account updates, the messaging
tier and its use, the marketing pause (with Resume) and the throughput setting.

Everything shown is read from its owner (connector/policy/quality.py, tier.py,
connector/cloudapi/pacing.py); the one action, Resume, is the lead's decision that quality
recovered enough to send offers again.
"""
from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from connector.cloudapi.pacing import PacingPolicy, ThroughputPolicy

from .. import services
from ..auth.guard import leads_only

bp = leads_only(Blueprint("account", __name__, url_prefix="/workspace/account"))
HISTORY = 50
log = logging.getLogger(__name__)



@bp.route("/")
def index():
    svc = services.current()
    return render_template(
        "workspace/account.html", state=svc.quality.current(), quality_history=svc.quality.history(HISTORY),
        account_history=svc.quality.account_history(HISTORY), usage=svc.tier.usage(),
        tier_history=svc.tier.history(HISTORY), throughput=ThroughputPolicy.from_env(),
        pacing=PacingPolicy.from_env())


@bp.route("/resume-marketing", methods=["POST"])
def resume_marketing():
    if services.current().quality.resume_marketing(current_user.name):
        log.warning("marketing sends resumed by %s", current_user.name)
        flash(f"Marketing resumed by {current_user.name}. A new quality drop pauses it again.", "success")
    else:
        flash("Marketing was not paused.", "info")
    return redirect(url_for("account.index"), 303)
