"""Agent console for the WhatsApp assistant: queue, conversations, replies inside WhatsApp's rules."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

from . import config as config_module
from . import services as services_module
from .secret_key import load_or_create
from .users import SESSION_TTL_SECONDS

csrf = CSRFProtect()


def _login_manager(app: Flask) -> LoginManager:
    # One per app: the user loader must read the users of *this* app's Redis.
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Please sign in to use the console."
    manager.login_message_category = "info"
    # "strong": a session cookie replayed from another browser/IP is dropped, not trusted.
    manager.session_protection = "strong"
    manager.user_loader(lambda session_id: services().users.from_session_id(session_id))
    return manager


def services() -> services_module.Services:
    return current_app.extensions["console"]


def conversation_ref(conversation_id: str) -> str:
    return current_app.extensions["console_refs"].ref(conversation_id)


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def create_app(config: dict | None = None) -> Flask:
    settings = config_module.from_env()
    settings.update(config or {})

    app = Flask(__name__)
    svc = services_module.build(settings)
    app.extensions["console"] = svc
    app.config.update(
        SECRET_KEY=settings.get("SECRET_KEY") or load_or_create(svc.redis),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.get("CONSOLE_HTTPS")),
        SESSION_COOKIE_NAME="alba_console",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=bool(settings.get("CONSOLE_HTTPS")),
        PERMANENT_SESSION_LIFETIME=SESSION_TTL_SECONDS,
        # The token is tied to the session, not to a clock: a page left open all shift still works.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=bool(settings.get("CONSOLE_HTTPS")),
        CLOSING_MESSAGE=settings["CLOSING_MESSAGE"],
        SSE_MAX_SECONDS=settings.get("SSE_MAX_SECONDS", 300),
        DISPLAY_TIMEZONE=settings.get("TIMEZONE"),
    )
    app.testing = bool(settings.get("TESTING"))

    from .refs import ConversationConverter, ConversationRefs

    app.extensions["console_refs"] = ConversationRefs(svc.redis, app.config["SECRET_KEY"])
    app.url_map.converters["conv"] = ConversationConverter

    csrf.init_app(app)
    _login_manager(app)

    from .auth_views import bp as auth_bp
    from .canned_views import bp as canned_bp
    from .conversation_views import bp as conversation_bp
    from .events import bp as events_bp
    from .queue_views import bp as queue_bp

    for bp in (auth_bp, queue_bp, conversation_bp, canned_bp, events_bp):
        app.register_blueprint(bp)

    _register_errors(app)
    _register_filters(app)

    @app.after_request
    def security_headers(response):
        # Everything is served from here; no inline script, no third-party origin.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def agent_status():
        from flask_login import current_user

        if not current_user.is_authenticated:
            return {}
        try:
            return {"agent_online": svc.desk.is_online(current_user.name)}
        except Exception:  # the header must render even if the handoff store hiccups
            return {"agent_online": None}

    proxies = int(settings.get("TRUSTED_PROXIES") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    if settings.get("START_JANITOR"):
        from .janitor import Janitor

        app.extensions["console_janitor"] = Janitor(
            svc.desk, settings.get("REQUEUE_INTERVAL_SECONDS", 30)).start()
    return app


def _register_errors(app: Flask) -> None:
    def error(status: int, message: str):
        if wants_json():
            return jsonify(error=message), status
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error(400, "Your session form token is missing or expired. Reload the page and try again.")

    @app.errorhandler(403)
    def forbidden(exc):
        return error(403, getattr(exc, "description", None) or "You are not allowed to do that.")

    @app.errorhandler(404)
    def not_found(exc):
        return error(404, "Not found.")


def _register_filters(app: Flask) -> None:
    from functools import partial

    from .formatting import display_timezone, duration, failure_summary, hhmm, iso, window_reason

    tz = display_timezone(app.config.get("DISPLAY_TIMEZONE"))

    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["hhmm"] = partial(hhmm, tz=tz)
    app.jinja_env.filters["iso"] = iso
    app.jinja_env.filters["ref"] = conversation_ref
    app.jinja_env.filters["window_reason"] = window_reason
    app.jinja_env.filters["failure"] = partial(failure_summary, tz=tz)
