"""What every page shares: answering JSON or HTML, the error pages, the security headers."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

# Everything is served from here; no inline script, no third-party origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def from_script() -> bool:
    """A fetch or EventSource (or any JSON client), not a page load. Browsers mark page loads
    `Sec-Fetch-Mode: navigate`; a client that sends no such header is treated as a page."""
    return wants_json() or request.headers.get("Sec-Fetch-Mode", "navigate") != "navigate"


def error(status: int, message: str):
    if wants_json():
        return jsonify(error=message), status
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        # The form token lives in the session: when the sign-in has ended (signed out elsewhere,
        # ended for moving), the token is gone with it, and the answer must be "signed out"
        # (401 for a script, which then reloads into the login page saying why), not a 400.
        manager = current_app.login_manager
        if not current_user.is_authenticated and request.endpoint != manager.login_view:
            return manager.unauthorized()
        return error(400, "Your session form token is missing or expired. Reload the page and try again.")

    @app.errorhandler(403)
    def forbidden(exc):
        return error(403, getattr(exc, "description", None) or "You are not allowed to do that.")

    @app.errorhandler(404)
    def not_found(exc):
        return error(404, "Not found.")

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
