"""The console's door into Rasa: core/rasa_api.py's client plus the events the console writes.

Agent replies, files, templates, the resume event and the closing message all go through
`POST /conversations/{id}/tracker/events?execute_side_effects=true&output_channel=whatsapp`,
so they leave through the connector's WhatsAppOutput like any bot message (window checks,
pacing, retries and failure records included).
"""
from __future__ import annotations

from core.rasa_api import RasaError, RasaHttp, bot_media_event, bot_template_event, bot_text_event

__all__ = ["RasaClient", "RasaError", "bot_template_event", "bot_text_event"]


class RasaClient(RasaHttp):
    def send_text(self, conversation_id: str, text: str, agent: str) -> dict:
        return self.append_events(conversation_id, [bot_text_event(text, agent)])

    def send_template(self, conversation_id: str, template: dict, agent: str) -> dict:
        return self.append_events(conversation_id, [bot_template_event(template, agent)])

    def send_media(self, conversation_id: str, agent: str, kind: str, media_id: str, **details) -> dict:
        """`details`: mime_type, file_size, filename, caption (core/rasa_api.py bot_media_event)."""
        return self.append_events(conversation_id, [bot_media_event(kind, media_id, agent, **details)])

    def resume_bot(self, conversation_id: str, closing_text: str | None, agent: str,
                   survey: dict | None = None) -> dict:
        """`survey`: the CSAT question's bot event (bot/csat.py `question`), sent last."""
        # action_listen: the tracker then reads "waiting for the customer", so the bot's rules
        # match the very next message (the pause left the last action mid-turn).
        events: list[dict] = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        if closing_text:
            events.append(bot_text_event(closing_text, agent, closing=True))
        if survey:
            events.append(survey)
        return self.append_events(conversation_id, events)
