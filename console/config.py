"""Console settings, read once from the environment so create_app() can also take them as a dict."""
from __future__ import annotations

import os

from bot.insights.store import url_from_env as events_url

DEFAULT_CLOSING_ES = "Gracias por escribirnos. Te dejamos de nuevo con nuestro asistente; si necesitas algo más, aquí estamos."
DEFAULT_CLOSING_EN = "Thanks for reaching out. You are back with our assistant; write any time if you need anything else."


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def from_env() -> dict:
    return {
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "RASA_URL": os.environ.get("RASA_URL", "http://127.0.0.1:5005"),
        "RASA_TOKEN": os.environ.get("RASA_TOKEN", ""),
        # The event store Rasa's broker writes (endpoints.yml); the lead's workspace reads it.
        "EVENTS_DB_URL": events_url(),
        "SECRET_KEY": os.environ.get("CONSOLE_SECRET_KEY") or None,
        "CONSOLE_HTTPS": _flag("CONSOLE_HTTPS"),
        "CLOSING_MESSAGE": {
            "es": os.environ.get("CONSOLE_CLOSING_MESSAGE_ES", DEFAULT_CLOSING_ES),
            "en": os.environ.get("CONSOLE_CLOSING_MESSAGE_EN", DEFAULT_CLOSING_EN),
        },
        "LOGIN_LIMIT": int(os.environ.get("CONSOLE_LOGIN_LIMIT", "5")),
        "LOGIN_WINDOW_SECONDS": int(os.environ.get("CONSOLE_LOGIN_WINDOW_SECONDS", "300")),
        "REQUEUE_INTERVAL_SECONDS": float(os.environ.get("CONSOLE_REQUEUE_INTERVAL", "30")),
        "TIMEZONE": os.environ.get("CONSOLE_TIMEZONE") or None,
        # Number of reverse proxies in front (for TLS); their X-Forwarded-* headers are then
        # trusted, so the login throttle sees the real client address.
        "TRUSTED_PROXIES": int(os.environ.get("CONSOLE_TRUSTED_PROXIES", "0")),
        "SSE_MAX_SECONDS": float(os.environ.get("CONSOLE_SSE_MAX_SECONDS", "300")),
        # What a request must share with its sign-in: "ip+ua" (address and browser) or "ua"
        # (browser only, for agents whose address keeps changing). See console/README.md.
        "SESSION_BIND": os.environ.get("CONSOLE_SESSION_BIND", "ip+ua").strip().lower(),
        # Customers' and agents' files (console/desk/media_cache.py): where, the total kept and
        # the largest file shown (default the process's temp dir, 256 MB, 100 MB).
        "MEDIA_CACHE_DIR": os.environ.get("CONSOLE_MEDIA_CACHE_DIR") or None,
        "MEDIA_CACHE_MB": os.environ.get("CONSOLE_MEDIA_CACHE_MB") or None,
        "MEDIA_MAX_FILE_MB": os.environ.get("CONSOLE_MEDIA_MAX_FILE_MB") or None,
        # The project whose data/faq/ the FAQ editor edits (default: this checkout).
        "PROJECT_DIR": os.environ.get("CONSOLE_PROJECT_DIR") or None,
    }


def port() -> int:
    return int(os.environ.get("CONSOLE_PORT", "5090"))


def host() -> str:
    # Loopback by default: expose the console through a TLS proxy, not directly.
    return os.environ.get("CONSOLE_HOST", "127.0.0.1")
