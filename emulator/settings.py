"""Emulator settings from the same environment variables the connector reads."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

# Used only when the environment leaves them unset, so a fresh checkout works without setup;
# the launcher passes the same values to the connector.
DEFAULT_TOKEN = "emulator-access-token"
DEFAULT_APP_SECRET = "emulator-app-secret"
DEFAULT_PHONE_NUMBER_ID = "100000000000001"
DEFAULT_WABA_ID = "100000000000002"
DEFAULT_DISPLAY_NUMBER = "525512345678"


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    return float(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    access_token: str = DEFAULT_TOKEN
    app_secret: str = DEFAULT_APP_SECRET
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID
    api_version: str = "v23.0"
    waba_id: str = DEFAULT_WABA_ID
    display_phone_number: str = DEFAULT_DISPLAY_NUMBER
    business_name: str = "Mi Negocio"
    webhook_url: str = "http://127.0.0.1:5005/webhooks/whatsapp/webhook"
    host: str = "127.0.0.1"
    port: int = 5080
    # Seconds between acceptance and each status, as a phone that is online would produce them.
    sent_delay: float = 0.2
    delivered_delay: float = 0.8
    # A message nobody looks at on the chat page is still read eventually; negative = never.
    auto_read_delay: float = 8.0
    webhook_attempts: int = 8
    webhook_backoff: float = 1.0
    webhook_timeout: float = 10.0
    webhook_workers: int = 4
    # Where customers, chats and media are kept across restarts; None = memory only (tests).
    state_dir: str | None = None
    # What Meta approved for the account; None = the repository's templates.yml.
    templates_file: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        d = cls()
        return cls(
            access_token=env.get("WHATSAPP_ACCESS_TOKEN") or d.access_token,
            app_secret=env.get("WHATSAPP_APP_SECRET") or d.app_secret,
            phone_number_id=env.get("WHATSAPP_PHONE_NUMBER_ID") or d.phone_number_id,
            api_version=env.get("WHATSAPP_API_VERSION") or d.api_version,
            waba_id=env.get("WHATSAPP_BUSINESS_ACCOUNT_ID") or d.waba_id,
            display_phone_number=env.get("WHATSAPP_DISPLAY_PHONE_NUMBER") or d.display_phone_number,
            business_name=env.get("EMULATOR_BUSINESS_NAME") or d.business_name,
            webhook_url=env.get("CONNECTOR_WEBHOOK_URL") or d.webhook_url,
            host=env.get("EMULATOR_HOST") or d.host,
            port=int(env.get("EMULATOR_PORT") or d.port),
            sent_delay=_float(env, "EMULATOR_SENT_DELAY", d.sent_delay),
            delivered_delay=_float(env, "EMULATOR_DELIVERED_DELAY", d.delivered_delay),
            auto_read_delay=_float(env, "EMULATOR_AUTO_READ_DELAY", d.auto_read_delay),
            webhook_attempts=int(env.get("EMULATOR_WEBHOOK_ATTEMPTS") or d.webhook_attempts),
            webhook_backoff=_float(env, "EMULATOR_WEBHOOK_BACKOFF", d.webhook_backoff),
            webhook_timeout=_float(env, "EMULATOR_WEBHOOK_TIMEOUT", d.webhook_timeout),
            state_dir=env.get("EMULATOR_STATE_DIR") or d.state_dir,
            templates_file=env.get("EMULATOR_TEMPLATES_FILE") or d.templates_file,
        )
