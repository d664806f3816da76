"""WhatsApp settings, read once at startup so a bad deployment fails before Meta calls us.

Environment variables are the source (DESIGN.md); a non-empty value in credentials.yml wins,
which keeps Rasa's usual way of configuring channels working.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlparse

DEFAULT_API_VERSION = "v23.0"
DEFAULT_GRAPH_URL = "https://graph.facebook.com"

# credentials.yml key → (environment variable, default). The yml keys are the short names a
# person would write there; the error messages name the environment variable, which is what
# `make run` and deployments actually set.
_FIELDS = {
    "verify_token": ("WHATSAPP_VERIFY_TOKEN", None),
    "app_secret": ("WHATSAPP_APP_SECRET", None),
    "access_token": ("WHATSAPP_ACCESS_TOKEN", None),
    "phone_number_id": ("WHATSAPP_PHONE_NUMBER_ID", None),
    "api_version": ("WHATSAPP_API_VERSION", DEFAULT_API_VERSION),
    "graph_url": ("WHATSAPP_GRAPH_URL", DEFAULT_GRAPH_URL),
    # The WhatsApp Business Account: its template list (ops.templates sync). Only that needs it.
    "waba_id": ("WHATSAPP_BUSINESS_ACCOUNT_ID", ""),
}
_API_VERSION = re.compile(r"^v\d{1,3}\.\d{1,2}$")


class ConfigError(ValueError):
    """A WhatsApp setting is missing or unusable; the message names the variable to fix."""


@dataclass(frozen=True)
class GraphTarget:
    """Where and as whom to call the Graph API: the one object every Graph URL is built from."""

    access_token: str
    phone_number_id: str
    api_version: str = DEFAULT_API_VERSION
    graph_url: str = DEFAULT_GRAPH_URL
    waba_id: str = ""

    def __repr__(self) -> str:
        # Secrets end up in logs through reprs of objects that hold a config; never print them.
        return f"{type(self).__name__}({self.messages_url})"

    @property
    def messages_url(self) -> str:
        return f"{self.graph_url.rstrip('/')}/{self.api_version}/{self.phone_number_id}/messages"

    @property
    def business_profile_url(self) -> str:
        return f"{self.graph_url.rstrip('/')}/{self.api_version}/{self.phone_number_id}/whatsapp_business_profile"

    @property
    def media_upload_url(self) -> str:
        return f"{self.graph_url.rstrip('/')}/{self.api_version}/{self.phone_number_id}/media"

    def object_url(self, object_id: str) -> str:
        """`/{id}` of a Graph object, such as a media id (its URL, type and size)."""
        if not object_id.isdigit():  # ids are numbers; anything else could walk the Graph
            raise ValueError(f"not a Graph object id: {object_id!r}")
        return f"{self.graph_url.rstrip('/')}/{self.api_version}/{object_id}"

    @property
    def templates_url(self) -> str:
        if not self.waba_id:
            raise ConfigError("WHATSAPP_BUSINESS_ACCOUNT_ID is not set; the template list belongs to "
                              "the WhatsApp Business Account (its id is in Meta's WhatsApp Manager).")
        return f"{self.graph_url.rstrip('/')}/{self.api_version}/{self.waba_id}/message_templates"


@dataclass(frozen=True, kw_only=True, repr=False)  # keeps GraphTarget's secret-free repr
class WhatsAppConfig(GraphTarget):
    """The Graph target plus what the webhook needs; pass it wherever a GraphTarget is wanted."""

    verify_token: str
    app_secret: str

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> "WhatsAppConfig":
        env = os.environ if env is None else env
        overrides = overrides or {}
        unknown = set(overrides) - set(_FIELDS)
        if unknown:
            raise ConfigError(
                f"credentials.yml: unknown key(s) {sorted(unknown)} for connector.channel.input."
                f"WhatsAppInput; allowed: {sorted(_FIELDS)}"
            )
        values = {}
        for key, (variable, default) in _FIELDS.items():
            raw = overrides.get(key)
            source = f"credentials.yml key {key!r}"
            if raw is None or str(raw).strip() == "":
                raw = env.get(variable)
                source = variable
            if raw is None or str(raw).strip() == "":
                if default is None:
                    raise ConfigError(
                        f"{variable} is not set (or empty); the WhatsApp channel needs it. "
                        f"`make run` sets emulator values when WHATSAPP_ACCESS_TOKEN is absent."
                    )
                raw, source = default, variable
            values[key] = _check(key, str(raw).strip(), source)
        return cls(**values)


def _check(key: str, value: str, source: str) -> str:
    if key == "api_version" and not _API_VERSION.match(value):
        raise ConfigError(f"{source}={value!r} is not a Graph API version like 'v23.0'")
    if key == "graph_url":
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"{source}={value!r} must be an http(s) URL such as {DEFAULT_GRAPH_URL}")
        return value.rstrip("/")
    if key == "phone_number_id" and not value.isdigit():
        raise ConfigError(f"{source}={value!r} must be the numeric phone number id from Meta")
    if key == "waba_id" and value and not value.isdigit():
        raise ConfigError(f"{source}={value!r} must be the numeric WhatsApp Business Account id from Meta")
    return value
