"""Sign in / sign out, with the login throttle in front of the password check."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import services
from .guard import current_client

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing aid.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("queue.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("queue.index"))
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))

    svc = services.current()
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")
    ip = request.remote_addr or "unknown"

    # Counted before the (slow) password check, in one step: parallel guesses cannot all pass
    # the limit while none of them has been recorded yet.
    wait = svc.throttle.acquire(username, ip)
    if wait is not None:
        minutes = max(1, -(-wait // 60))
        message = f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
        return render_template("login.html", error=message, username=username,
                               next=request.form.get("next", "")), 429, {"Retry-After": str(wait)}

    user = svc.users.authenticate(username, password)
    if user is None:
        return render_template("login.html", error="Wrong user name or password.", username=username,
                               next=request.form.get("next", "")), 401

    svc.throttle.record_success(username, ip)
    if user.disabled:
        # Said only to someone who knows the password: it is no hint to a guesser.
        return render_template("login.html", error="This account is disabled. Ask a lead to re-enable it.",
                               username=username, next=request.form.get("next", "")), 403
    # A fresh session on sign-in, so a session id planted before login is worthless.
    session.clear()
    login_user(svc.sessions.start(user, current_client()))
    session.permanent = True
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    try:
        services.current().desk.set_online(current_user.name, False)
    except Exception:  # signing out must work even when the handoff store is down
        pass
    services.current().sessions.end(current_user)
    logout_user()
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))
