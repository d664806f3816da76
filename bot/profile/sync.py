"""Keeping WhatsApp's business profile equal to the files, and saying so when it is not.

`ProfileSync.sync()` composes the profile from business_profile.yml and hours.yml, sends it
(connector/cloudapi/profile.py) and records the outcome; it never raises, because its callers
(`make run`'s start, a lead saving the hours, `python -m ops.profile sync`) must go on. A failed
sync is not lost: `state()` compares what the files give now with the version last sent, so
the console's hours page says "out of date" (with the last failure's reason) until a sync
succeeds, whoever or whatever changed a file, and offers to sync again.

Key (owned here):
  profile:sync    hash: version, synced_at (epoch s) of the last success; error, error_at of the
                  last failure (cleared by a success)
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any, Mapping

import httpx

from bot.hours import BusinessHours, HoursConfigError
from bot.hours.schedule import hours_path
from bot.profile.compose import ProfileError, ProfileFile, compose, profile_path, version
from connector.cloudapi.config import ConfigError, WhatsAppConfig
from connector.cloudapi.errors import SendError
from connector.cloudapi.limits import LimitError
from connector.cloudapi.profile import ProfileClient
from core.clock import SYSTEM_CLOCK, Clock

KEY = "profile:sync"


@dataclass(frozen=True)
class SyncState:
    version: str | None            # what the files give now (None: they cannot be composed)
    problems: tuple[str, ...]      # why they cannot
    synced_version: str | None
    synced_at: dt.datetime | None
    error: str | None              # the last failure, unless a success followed
    error_at: dt.datetime | None

    @property
    def up_to_date(self) -> bool:
        return self.version is not None and self.version == self.synced_version


@dataclass(frozen=True)
class SyncResult:
    ok: bool
    message: str


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(float(value), dt.timezone.utc) if value else None


def _reason(exc: Exception) -> str:
    if isinstance(exc, SendError):  # Meta's words once: its detail often repeats its message
        words = exc.title if exc.detail in ("", exc.title) else f"{exc.title} ({exc.detail})"
        return f"{words} [code {exc.code}]" if exc.code is not None else words
    return "; ".join(getattr(exc, "problems", None) or [str(exc)])


class ProfileSync:
    def __init__(self, redis, client: ProfileClient | None, *, profile_file=None, hours_file=None,
                 clock: Clock = SYSTEM_CLOCK, not_configured: str = "") -> None:
        self.redis = redis
        self.client = client
        self.profile_path = profile_path(profile_file)
        self.hours_path = hours_path(hours_file)
        self.clock = clock
        # Why there is no client: WhatsApp's settings are missing (the reason is shown).
        self.not_configured = not_configured

    @classmethod
    def from_env(cls, redis, env: Mapping[str, str] | None = None, http: httpx.Client | None = None,
                 **kwargs) -> "ProfileSync":
        """With the Graph target of WHATSAPP_* (the emulator's under `make run` without a token)."""
        try:
            target = WhatsAppConfig.load(env=os.environ if env is None else env)
        except ConfigError as exc:
            return cls(redis, None, not_configured=f"WhatsApp is not configured: {exc}", **kwargs)
        return cls(redis, ProfileClient(target, http), **kwargs)

    def desired(self) -> dict[str, Any]:
        """The profile the files give now; ProfileError with every problem."""
        try:
            hours = BusinessHours.from_file(self.hours_path)
        except HoursConfigError as exc:
            raise ProfileError([f"{self.hours_path.name}: {exc}"]) from None
        return compose(ProfileFile.load(self.profile_path), hours)

    def state(self) -> SyncState:
        try:
            current, problems = version(self.desired()), ()
        except ProfileError as exc:
            current, problems = None, tuple(exc.problems)
        saved = self.redis.hgetall(KEY)
        return SyncState(current, problems, saved.get("version"), _time(saved.get("synced_at")),
                         saved.get("error"), _time(saved.get("error_at")))

    def sync(self) -> SyncResult:
        """Send the profile the files give now; the outcome is recorded for state()."""
        try:
            fields = self.desired()
            if self.client is None:
                raise ConfigError(self.not_configured)
            self.client.update(fields)
        except (ProfileError, LimitError, ConfigError, SendError) as exc:
            reason = _reason(exc)
            self.redis.hset(KEY, mapping={"error": reason, "error_at": self.clock.now().timestamp()})
            return SyncResult(False, f"WhatsApp profile not updated: {reason}")
        with self.redis.pipeline() as pipe:
            pipe.hset(KEY, mapping={"version": version(fields), "synced_at": self.clock.now().timestamp()})
            pipe.hdel(KEY, "error", "error_at")
            pipe.execute()
        return SyncResult(True, "WhatsApp profile updated (about, description with the hours, contact details).")
