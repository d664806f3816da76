"""Flask-Login over the server-side sign-in records, and the lead-only check for views."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, Flask, abort, flash, jsonify, redirect, request, session
from flask_login import LoginManager, current_user, login_required, login_url

from .. import services
from ..web import from_script
from .sessions import Client, SessionMoved

LOGIN_MESSAGE = "Please sign in to use the console."
MOVED_MESSAGE = ("You were signed out because your session was used from another network or "
                 "browser. Please sign in again.")
# Kept in the (now empty) session, so the page a script reloads after its 401 still says why.
MOVED_FLAG = "signed_out_moved"


def current_client() -> Client:
    # remote_addr is the client's own address: ProxyFix has applied CONSOLE_TRUSTED_PROXIES.
    return Client.of(request.remote_addr, request.headers.get("User-Agent"))


def _load_user(user_id: str):
    svc = services.current()
    user = svc.users.from_id(user_id)
    if user is None:
        return None
    try:
        return svc.sessions.resume(user, current_client())
    except SessionMoved:
        session.clear()
        session[MOVED_FLAG] = True
        return None


def _unauthorized():
    # Scripts get a status, not the redirect: one following it to the login page would render,
    # and so use up, the message meant for the page the script then reloads.
    if from_script():
        return jsonify(error=MOVED_MESSAGE if session.get(MOVED_FLAG) else LOGIN_MESSAGE), 401
    if session.pop(MOVED_FLAG, False):
        flash(MOVED_MESSAGE, "warning")
    else:
        flash(LOGIN_MESSAGE, "info")
    return redirect(login_url("auth.login", next_url=request.url))


def init_app(app: Flask) -> LoginManager:
    # One per app: the user loader must read the users of *this* app's Redis.
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    # Off: for a permanent session Flask-Login's own protection only marks it non-fresh, which
    # nothing here checks; the sign-in record (auth/sessions.py) binds the session instead.
    manager.session_protection = None
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
    return manager


def lead_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_lead:
            abort(403, description="Only leads can do that.")
        return view(*args, **kwargs)

    return wrapper


def leads_only(bp: Blueprint) -> Blueprint:
    """Every view of `bp` needs a signed-in lead: a whole part of the workspace, guarded once."""

    @bp.before_request
    @login_required
    @lead_required
    def _leads_only():
        return None

    return bp
