"""Media on the Cloud API: upload a file (`POST /{phone-number-id}/media`), look one up
(`GET /{media-id}`: a download URL, its type, hash and size) and download it from that URL.

The download URL needs the bearer token and expires within minutes, so it is for this process
only: never give it to a browser. `download` raises ExpiredUrlError when Meta no longer takes
the URL, and the caller looks the media up again. Uploads and look-ups are tried once: a caller
that wants a retry does it where a person sees the outcome (the console answers the agent).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any, Mapping

import httpx

from connector.cloudapi import errors
from connector.cloudapi.config import GraphTarget
from connector.cloudapi.limits import check_file, enforce
from connector.cloudapi.sender import DEFAULT_TIMEOUT

CHUNK = 64 * 1024


@dataclass(frozen=True)
class MediaInfo:
    id: str
    url: str
    mime_type: str
    sha256: str
    file_size: int


class ExpiredUrlError(errors.SendError):
    """The download URL is no longer valid (expired, or refused): look the media up again."""


class TooLargeError(errors.SendError):
    """The file is larger than the caller can take."""


class MediaClient:
    def __init__(self, target: GraphTarget, client: httpx.Client | None = None) -> None:
        self.target = target
        self.client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.target.access_token}"}

    def upload(self, data: bytes, mime_type: str, filename: str) -> str:
        """The new media id. LimitError (nothing uploaded) when WhatsApp would refuse the file."""
        enforce(check_file(mime_type, data), "attachment")
        payload = self._call("POST", self.target.media_upload_url,
                             data={"messaging_product": "whatsapp", "type": mime_type},
                             files={"file": (filename, data, mime_type)})
        media_id = payload.get("id") if isinstance(payload, Mapping) else None
        if not isinstance(media_id, str) or not media_id:
            raise errors.ServerError("the upload answer has no media id", detail=str(payload)[:200])
        return media_id

    def info(self, media_id: str) -> MediaInfo:
        try:
            url = self.target.object_url(media_id)
        except ValueError as exc:
            raise errors.InvalidRequestError(str(exc)) from None
        payload = self._call("GET", url)
        try:
            return MediaInfo(id=media_id, url=str(payload["url"]), mime_type=str(payload["mime_type"]),
                             sha256=str(payload.get("sha256") or ""), file_size=int(payload["file_size"]))
        except (KeyError, TypeError, ValueError):
            raise errors.ServerError("the media answer lacks url, mime_type or file_size",
                                     detail=str(payload)[:200]) from None

    def download(self, info: MediaInfo, out: IO[bytes], max_bytes: int) -> int:
        """Stream the file into `out`; the bytes written. TooLargeError past `max_bytes` (Meta's
        stated size is checked first, the bytes as they come: a size that lies stops too)."""
        if info.file_size > max_bytes:
            raise TooLargeError("file too large", detail=f"{info.file_size} bytes")
        written = 0
        try:
            with self.client.stream("GET", info.url, headers=self._auth) as response:
                if response.status_code in (401, 403, 404, 410):
                    raise ExpiredUrlError("the download URL was refused", http_status=response.status_code)
                if not response.is_success:
                    response.read()
                    raise errors.from_graph(response.status_code, _json(response))
                for chunk in response.iter_bytes(CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise TooLargeError("file too large", detail=f"more than {max_bytes} bytes")
                    out.write(chunk)
        except httpx.HTTPError as exc:
            raise errors.NetworkError(f"{type(exc).__name__}: {exc}", detail="media download") from exc
        return written

    def _call(self, method: str, url: str, **kwargs) -> Any:
        try:
            response = self.client.request(method, url, headers=self._auth, **kwargs)
        except httpx.HTTPError as exc:
            raise errors.NetworkError(f"{type(exc).__name__}: {exc}", detail=url) from exc
        if response.is_success:
            return _json(response)
        raise errors.from_graph(response.status_code, _json(response))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
