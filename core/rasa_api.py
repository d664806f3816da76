"""The one HTTP client of Rasa's API (read a tracker, append events) and the events we append.

The console (agent replies, templates, resume) and the outreach worker (a sent alert, added to
the conversation's history) both talk to Rasa through it, so a tracker event of ours has one
shape: `bot_text_event` / `bot_template_event` / `bot_media_event`, which console/desk/history.py renders.

`append_events(..., send=True)` asks Rasa to execute side effects through the `whatsapp` output
channel (the message goes out through the connector); `send=False` only records the events.
"""
from __future__ import annotations

import threading
from urllib.parse import quote

import httpx


class RasaError(RuntimeError):
    """Rasa could not be reached or refused the request; the message is safe to show a person."""


class RasaHttp:
    def __init__(self, base_url: str, token: str = "", *, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.transport = transport
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        # One client, kept: making one loads the CA bundle, which costs more than the request.
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self.timeout, transport=self.transport)
            return self._client

    def _url(self, conversation_id: str, suffix: str) -> str:
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{suffix}"

    def _params(self, **extra: str) -> dict:
        params = dict(extra)
        if self.token:
            params["token"] = self.token
        return params

    def _request(self, method: str, url: str, **kwargs) -> dict:
        try:
            response = self._http().request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise RasaError(f"Rasa is not reachable ({exc.__class__.__name__})") from exc
        if response.status_code >= 400:
            raise RasaError(f"Rasa answered {response.status_code}: {_reason(response)}")
        try:
            return response.json()
        except ValueError as exc:
            raise RasaError("Rasa answered with something that is not JSON") from exc

    def tracker(self, conversation_id: str, include_events: str = "ALL") -> dict:
        # ALL by default: agents need the whole story, not just what followed the last restart.
        return self._request("GET", self._url(conversation_id, "tracker"),
                             params=self._params(include_events=include_events))

    def slots(self, conversation_id: str) -> dict:
        return self.tracker(conversation_id, include_events="NONE").get("slots") or {}

    def append_events(self, conversation_id: str, events: list[dict], *,
                      send: bool = True) -> dict:
        params = self._params(include_events="NONE")
        if send:
            params.update(execute_side_effects="true", output_channel="whatsapp")
        return self._request("POST", self._url(conversation_id, "tracker/events"),
                             params=params, json=events)


def bot_text_event(text: str, agent: str, *, closing: bool = False) -> dict:
    metadata = {"agent": agent}
    if closing:
        metadata["closing"] = True
    return {"event": "bot", "text": text, "metadata": metadata}


def bot_media_event(kind: str, media_id: str, agent: str, *, mime_type: str, file_size: int,
                    filename: str | None = None, caption: str | None = None) -> dict:
    """An agent's file, sent by its Cloud API media id as a `custom` payload (no `text`: Rasa
    would send that as a second message). metadata.media is what the history shows inline."""
    content: dict = {"id": media_id}
    if caption:
        content["caption"] = caption
    if kind == "document" and filename:
        content["filename"] = filename
    media = {"kind": kind, "id": media_id, "mime_type": mime_type, "file_size": file_size,
             "filename": filename}
    return {"event": "bot", "data": {"custom": {"type": kind, kind: content}},
            "metadata": {"agent": agent, "media": media}}


def bot_template_event(template: dict, agent: str | None = None, *, text: str | None = None,
                       timestamp: float | None = None, **metadata: str) -> dict:
    """A sent template: by an agent (`agent`), or by the business's alerts and campaigns
    (`metadata` says which send). `text` is the filled-in body, so the bot's history reads it."""
    event: dict = {"event": "bot", "data": {"custom": {"type": "template", "template": template}},
                   "metadata": {"template_name": template.get("name"), **metadata}}
    if agent:
        event["metadata"]["agent"] = agent
    if text:
        event["text"] = text
    if timestamp is not None:
        event["timestamp"] = timestamp
    return event


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("message") or body.get("reason") or body)[:200]
    except ValueError:
        return response.text[:200] or response.reason_phrase
