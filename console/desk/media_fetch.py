"""A conversation's file for the console: from the cache, or looked up and downloaded from the
Cloud API (connector/cloudapi/media.py), then kept in the cache (media_cache.py).

Meta's download URL needs the token and expires within minutes: it never leaves this process.
A looked-up URL is reused for URL_REUSE_SECONDS (less than Meta's five minutes); when Meta
refuses it anyway (expired early, clock skew) the media is looked up again, once. Every failure
becomes MediaUnavailable with an HTTP status and a sentence for the agent's bubble.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from connector.cloudapi import errors
from connector.cloudapi.config import ConfigError, WhatsAppConfig
from connector.cloudapi.limits import LimitError
from connector.cloudapi.media import ExpiredUrlError, MediaClient, MediaInfo, TooLargeError

from .media_cache import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILE_BYTES, MB, CachedFile, MediaCache

URL_REUSE_SECONDS = 4 * 60
REMEMBERED_URLS = 1000


class MediaUnavailable(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _too_large(size: int, limit: int) -> MediaUnavailable:
    return MediaUnavailable(413, f"This file is {size / MB:.1f} MB; the console shows files up to "
                                 f"{limit / MB:.0f} MB, so open it on the WhatsApp account's phone.")


def _explain(exc: errors.SendError) -> MediaUnavailable:
    if isinstance(exc, errors.AuthError):
        return MediaUnavailable(502, "The console could not sign in to WhatsApp to fetch this file "
                                     "(access token refused); tell an admin.")
    if isinstance(exc, errors.PermanentError):
        return MediaUnavailable(404, "WhatsApp no longer has this file (it keeps media for a limited "
                                     "time); ask the customer to send it again.")
    return MediaUnavailable(502, "WhatsApp's media service did not answer; try again in a minute.")


class MediaFetcher:
    def __init__(self, client: MediaClient | None, cache: MediaCache, clock, *,
                 not_configured: str = "") -> None:
        self.client = client
        self.cache = cache
        self.clock = clock
        self.not_configured = not_configured  # why there is no client (WhatsApp settings missing)
        self._urls: OrderedDict[str, tuple[MediaInfo, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: dict, clock) -> "MediaFetcher":
        """MEDIA_CLIENT (tests), else the Graph target of WHATSAPP_* (the emulator's under
        `make run`); the cache from MEDIA_CACHE_DIR / MEDIA_CACHE_MB / MEDIA_MAX_FILE_MB."""
        cache = MediaCache(settings.get("MEDIA_CACHE_DIR"),
                           max_bytes=int(settings.get("MEDIA_CACHE_MB") or DEFAULT_MAX_BYTES // MB) * MB,
                           max_file_bytes=int(settings.get("MEDIA_MAX_FILE_MB") or DEFAULT_MAX_FILE_BYTES // MB) * MB)
        client = settings.get("MEDIA_CLIENT")
        if client is not None:
            return cls(client, cache, clock)
        try:
            return cls(MediaClient(WhatsAppConfig.load()), cache, clock)
        except ConfigError as exc:
            return cls(None, cache, clock, not_configured=f"WhatsApp is not configured ({exc})")

    def _client(self) -> MediaClient:
        if self.client is None:
            raise MediaUnavailable(503, f"Files cannot be shown: {self.not_configured}")
        return self.client

    def describe(self, media_id: str) -> tuple[str, int]:
        """(MIME type, size) without downloading, when not cached yet."""
        cached = self.cache.get(media_id)
        if cached is not None:
            return cached.mime_type, cached.size
        info = self._resolve(media_id, fresh=False)
        if info.file_size > self.cache.max_file_bytes:
            raise _too_large(info.file_size, self.cache.max_file_bytes)
        return info.mime_type, info.file_size

    def open(self, media_id: str, filename: str | None = None) -> CachedFile:
        cached = self.cache.get(media_id)
        if cached is not None:
            return cached
        info = self._resolve(media_id, fresh=False)
        try:
            return self._download(info, filename)
        except ExpiredUrlError:
            pass
        try:
            return self._download(self._resolve(media_id, fresh=True), filename)
        except ExpiredUrlError:
            raise MediaUnavailable(502, "WhatsApp refused its own fresh download link for this "
                                        "file; try again in a minute.") from None

    def upload(self, data: bytes, mime_type: str, filename: str) -> str:
        """An agent's file to the Cloud API (checked against WhatsApp's limits first); its media
        id. Kept in the cache, so the history shows it without downloading it back."""
        try:
            media_id = self._client().upload(data, mime_type, filename)
        except LimitError as exc:
            raise MediaUnavailable(400, str(exc)) from None
        except errors.SendError as exc:
            raise MediaUnavailable(502, f"WhatsApp did not take the file ({exc.title}); nothing was sent.") from None
        self.cache.put(media_id, data, mime_type, filename)
        return media_id

    def _download(self, info: MediaInfo, filename: str | None) -> CachedFile:
        limit = self.cache.max_file_bytes
        try:
            with self.cache.writer(info.id, info.mime_type, filename) as out:
                self._client().download(info, out, limit)
        except ExpiredUrlError:
            self._forget(info.id)
            raise
        except TooLargeError:
            raise _too_large(max(info.file_size, limit + 1), limit) from None
        except errors.SendError as exc:
            raise _explain(exc) from None
        cached = self.cache.get(info.id)
        if cached is None:  # evicted at once: the cache is smaller than this one file
            raise MediaUnavailable(507, "The console's file cache is too small for this file.")
        return cached

    def _resolve(self, media_id: str, *, fresh: bool) -> MediaInfo:
        now = self.clock.now()
        with self._lock:
            known = self._urls.get(media_id)
        if known and not fresh and (now - known[1]).total_seconds() < URL_REUSE_SECONDS:
            return known[0]
        try:
            info = self._client().info(media_id)
        except errors.SendError as exc:
            raise _explain(exc) from None
        with self._lock:
            self._urls[media_id] = (info, now)
            self._urls.move_to_end(media_id)
            while len(self._urls) > REMEMBERED_URLS:
                self._urls.popitem(last=False)
        return info

    def _forget(self, media_id: str) -> None:
        with self._lock:
            self._urls.pop(media_id, None)
