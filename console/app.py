"""The app factory: settings, services, the areas' blueprints, and the process-wide protections."""
from __future__ import annotations

import logging

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from . import config as config_module
from . import formatting, refs, services, web
from .api.views import bp as api_bp
from .auth import guard
from .auth.cookie_session import PageRenewedSessions
from .auth.secret_key import load_or_create
from .auth.sessions import TTL_SECONDS
from .auth.views import bp as auth_bp
from .desk.canned_views import bp as canned_bp
from .desk.chat_list import bp as desk_bp
from .desk.conversation_views import bp as conversation_bp
from .desk.events import bp as events_bp
from .desk.history_views import bp as history_bp
from .desk.label_views import bp as labels_bp
from .desk.media_views import bp as media_bp
from .desk.queue_views import bp as queue_bp
from .desk.supervisor_views import bp as supervisor_bp
from .metrics_view import bp as metrics_bp
from .workspace.account_views import bp as account_bp
from .workspace.consent_views import bp as consent_bp
from .workspace.campaign_views import bp as campaigns_bp
from .workspace.faq_views import bp as faqs_bp
from .workspace.hours_views import bp as hours_bp
from .workspace.insights_views import bp as insights_bp
from .workspace.publish_views import bp as publish_bp
from .workspace.team_views import bp as team_bp
from .workspace.try_views import bp as try_bp

csrf = CSRFProtect()

BLUEPRINTS = (auth_bp, queue_bp, conversation_bp, canned_bp, events_bp, faqs_bp, hours_bp, insights_bp,
              publish_bp, try_bp, account_bp, consent_bp, api_bp, campaigns_bp, history_bp, labels_bp,
              supervisor_bp, team_bp, media_bp, desk_bp, metrics_bp)


def create_app(config: dict | None = None) -> Flask:
    settings = config_module.from_env()
    settings.update(config or {})

    app = Flask(__name__)
    app.session_interface = PageRenewedSessions()
    svc = services.build(settings)
    app.extensions[services.EXTENSION] = svc
    app.config.update(
        SECRET_KEY=settings.get("SECRET_KEY") or load_or_create(svc.redis),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.get("CONSOLE_HTTPS")),
        SESSION_COOKIE_NAME="alba_console",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=bool(settings.get("CONSOLE_HTTPS")),
        PERMANENT_SESSION_LIFETIME=TTL_SECONDS,
        # The token is tied to the session, not to a clock: a page left open all shift still works.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=bool(settings.get("CONSOLE_HTTPS")),
        CLOSING_MESSAGE=settings["CLOSING_MESSAGE"],
        SSE_MAX_SECONDS=settings.get("SSE_MAX_SECONDS", 300),
        DISPLAY_TIMEZONE=settings.get("TIMEZONE"),
    )
    app.testing = bool(settings.get("TESTING"))

    refs.init_app(app, svc.redis, app.config["SECRET_KEY"])
    csrf.init_app(app)
    csrf.exempt(api_bp)  # bearer keys, not cookies: a cross-site form cannot use them
    guard.init_app(app)
    web.init_app(app)
    formatting.init_app(app)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)

    proxies = int(settings.get("TRUSTED_PROXIES") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    if settings.get("START_JANITOR"):
        from .desk.janitor import Janitor

        app.extensions["console_janitor"] = Janitor(
            svc.desk, settings.get("REQUEUE_INTERVAL_SECONDS", 30)).start()
    return app


def serving_app() -> Flask:
    """The app as a server runs it: with its janitor and logging. `python -m console` serves it
    with Werkzeug; production with gunicorn (`console.app:serving_app()`, deploy/compose.yaml)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return create_app({"START_JANITOR": True})
