"""Users in the console (leads): create agents and leads, disable and re-enable them, reset a
password, change a role; every change goes to the audit log shown on the page.

Disabling ends the user's sessions at once (UserStore rotates their epoch), sets them offline
and sends the chats they hold back to the queue, keeping each chat's original place: a disabled
agent is not coming back to them, and the janitor would only requeue them after the agent
timeout. A new password is shown once, in the answer to the form, never stored in plain text
or put in a (client-side) flash message. `python -m console create-user` stays for the first lead
and for recovery: --replace makes the user anew, enabled.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import services
from ..auth.guard import leads_only
from ..auth.users import ROLES, LastLead, MIN_PASSWORD, generate_password
from ..desk.chats import DeskError

bp = leads_only(Blueprint("team", __name__, url_prefix="/team"))


def _page(status: int = 200, error: str | None = None, shown: tuple[str, str] | None = None):
    svc = services.current()
    return render_template("team.html", users=svc.users.all(), audit=svc.audit.recent(), roles=ROLES,
                           min_password=MIN_PASSWORD, error=error, shown=shown), status


def _done(message: str):
    flash(message, "success")
    return redirect(url_for("team.index"), 303)


def _audit(action: str, target: str, detail: str = "") -> None:
    services.current().audit.record(current_user.name, action, target, detail)


@bp.route("/")
def index():
    return _page()


@bp.route("/users", methods=["POST"])
def create():
    svc = services.current()
    password = request.form.get("password", "")
    generated = not password
    password = password or generate_password()
    try:
        user = svc.users.create(request.form.get("name", ""), request.form.get("role", ""), password)
    except ValueError as exc:
        return _page(400, f"Could not create the user: {exc}.")
    _audit("create", user.name, user.role)
    if generated:
        return _page(shown=(user.name, password))
    return _done(f"Created {user.name} ({user.role}).")


def _update(name: str, action: str, detail: str = "", **change):
    """(user, None) after the change, or (None, the error page)."""
    try:
        user = services.current().users.update(name, **change)
    except LookupError:
        return None, _page(404, f"There is no user {name}.")
    except LastLead as exc:
        return None, _page(409, f"Refused: {exc}.")
    except ValueError as exc:
        return None, _page(400, f"Refused: {exc}.")
    _audit(action, user.name, detail)
    return user, None


@bp.route("/users/<name>/disable", methods=["POST"])
def disable(name: str):
    svc = services.current()
    user, failed = _update(name, "disable", disabled=True)
    if failed:
        return failed
    svc.desk.set_online(user.name, False)
    moved = 0
    for chat in svc.desk.mine(user.name):
        try:
            svc.desk.transfer(chat.conv, current_user.name, None, is_lead=True)
            moved += 1
        except DeskError:
            pass  # resolved or moved by someone else meanwhile: no longer theirs
    if moved:
        _audit("requeue", user.name, f"{moved} chat{'s' if moved != 1 else ''} back to the queue")
    return _done(f"Disabled {user.name}: signed out everywhere"
                 + (f"; {moved} chat{'s' if moved != 1 else ''} back to the queue." if moved else "."))


@bp.route("/users/<name>/enable", methods=["POST"])
def enable(name: str):
    user, failed = _update(name, "enable", disabled=False)
    return failed or _done(f"Re-enabled {user.name}; they can sign in again.")


@bp.route("/users/<name>/password", methods=["POST"])
def reset_password(name: str):
    password = request.form.get("password", "")
    generated = not password
    password = password or generate_password()
    user, failed = _update(name, "reset password", password=password)
    if failed:
        return failed
    if generated:
        return _page(shown=(user.name, password))
    return _done(f"New password set for {user.name}; their sessions have ended.")


@bp.route("/users/<name>/role", methods=["POST"])
def change_role(name: str):
    role = request.form.get("role", "")
    user, failed = _update(name, "change role", role, role=role)
    return failed or _done(f"{user.name} is now {'a lead' if user.is_lead else 'an agent'}.")
