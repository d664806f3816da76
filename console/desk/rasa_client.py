"""The console's only door into Rasa: read a tracker, append events (which may send messages).

Agent replies, templates, the resume event and the closing message all go through
`POST /conversations/{id}/tracker/events?execute_side_effects=true&output_channel=whatsapp`,
so they leave through the connector's WhatsAppOutput like any bot message (window checks,
pacing, retries and failure records included).
"""
from __future__ import annotations

from urllib.parse import quote

import httpx


class RasaError(RuntimeError):
    """Rasa could not be reached or refused the request; the message is safe to show an agent."""


class RasaClient:
    def __init__(self, base_url: str, token: str = "", *, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.transport = transport

    def _url(self, conversation_id: str, suffix: str) -> str:
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{suffix}"

    def _params(self, **extra: str) -> dict:
        params = dict(extra)
        if self.token:
            params["token"] = self.token
        return params

    def _request(self, method: str, url: str, **kwargs) -> dict:
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise RasaError(f"Rasa is not reachable ({exc.__class__.__name__})") from exc
        if response.status_code >= 400:
            raise RasaError(f"Rasa answered {response.status_code}: {_reason(response)}")
        try:
            return response.json()
        except ValueError as exc:
            raise RasaError("Rasa answered with something that is not JSON") from exc

    def tracker(self, conversation_id: str) -> dict:
        # include_events=ALL: agents need the whole story, not just what followed the last restart.
        return self._request("GET", self._url(conversation_id, "tracker"),
                             params=self._params(include_events="ALL"))

    def append_events(self, conversation_id: str, events: list[dict], *,
                      send: bool = True) -> dict:
        params = self._params(include_events="NONE")
        if send:
            params.update(execute_side_effects="true", output_channel="whatsapp")
        return self._request("POST", self._url(conversation_id, "tracker/events"),
                             params=params, json=events)

    # The events the console writes, in one place so their shape is defined once.

    def send_text(self, conversation_id: str, text: str, agent: str) -> dict:
        return self.append_events(conversation_id, [bot_text_event(text, agent)])

    def send_template(self, conversation_id: str, template: dict, agent: str) -> dict:
        return self.append_events(conversation_id, [bot_template_event(template, agent)])

    def resume_bot(self, conversation_id: str, closing_text: str | None, agent: str) -> dict:
        # action_listen: the tracker then reads "waiting for the customer", so the bot's rules
        # match the very next message (the pause left the last action mid-turn).
        events: list[dict] = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        if closing_text:
            events.append(bot_text_event(closing_text, agent, closing=True))
        return self.append_events(conversation_id, events)


def bot_text_event(text: str, agent: str, *, closing: bool = False) -> dict:
    metadata = {"agent": agent}
    if closing:
        metadata["closing"] = True
    return {"event": "bot", "text": text, "metadata": metadata}


def bot_template_event(template: dict, agent: str) -> dict:
    return {"event": "bot", "data": {"custom": {"type": "template", "template": template}},
            "metadata": {"agent": agent, "template_name": template.get("name")}}


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("message") or body.get("reason") or body)[:200]
    except ValueError:
        return response.text[:200] or response.reason_phrase
