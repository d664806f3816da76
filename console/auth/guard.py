"""Flask-Login over the server-side sign-in records, and the lead-only check for views."""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort
from flask_login import LoginManager, current_user

from .. import services


def _load_user(user_id: str):
    svc = services.current()
    user = svc.users.from_id(user_id)
    return svc.sessions.resume(user) if user else None


def init_app(app: Flask) -> LoginManager:
    # One per app: the user loader must read the users of *this* app's Redis.
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Please sign in to use the console."
    manager.login_message_category = "info"
    # "strong": a session cookie replayed from another browser/IP is dropped, not trusted.
    manager.session_protection = "strong"
    manager.user_loader(_load_user)
    return manager


def lead_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_lead:
            abort(403, description="Only leads can do that.")
        return view(*args, **kwargs)

    return wrapper
