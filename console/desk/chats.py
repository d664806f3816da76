"""The console's view of bot.handoff: one adapter, so the views never depend on its details.

Handoff owns the state machine and `handoff:*`; this module only reads and asks it to act, and
turns its refusals into one error type the views can show.
"""
from __future__ import annotations

from bot.handoff import ASSIGNED, QUEUED, Conversation, HandoffError, NotYourChat

WAITING = QUEUED
# The pages read Handoff's own record (state, agent, name, language, reason, last_message,
# queued_at); the alias keeps the console's vocabulary.
Chat = Conversation


class DeskError(Exception):
    """Handoff refused the action (wrong state, not yours, target offline); safe to show."""


class DeskForbidden(DeskError):
    """Refused because the chat is not this agent's to act on (a 403, not a state conflict)."""


class Desk:
    def __init__(self, handoff) -> None:
        self.handoff = handoff

    def chat(self, conversation_id: str) -> Chat:
        return self.handoff.state(conversation_id)

    def waiting(self) -> list[Chat]:
        return self.handoff.waiting()

    def mine(self, agent: str) -> list[Chat]:
        return self.handoff.assigned_to(agent)

    def claim(self, conversation_id: str, agent: str) -> bool:
        return bool(self.handoff.claim(conversation_id, agent))

    def transfer(self, conversation_id: str, agent: str, to_agent: str | None, *, is_lead: bool = False) -> None:
        try:
            self.handoff.transfer(conversation_id, agent, to_agent, is_lead=is_lead)
        except HandoffError as exc:
            raise DeskError(str(exc)) from exc

    def assign(self, conversation_id: str, agent: str, by_lead: str) -> None:
        try:
            self.handoff.assign(conversation_id, agent, by_lead)
        except HandoffError as exc:
            raise DeskError(str(exc)) from exc

    def resolve(self, conversation_id: str, agent: str, *, is_lead: bool = False) -> None:
        try:
            self.handoff.resolve(conversation_id, agent, is_lead=is_lead)
        except HandoffError as exc:
            raise DeskError(str(exc)) from exc

    def reopen(self, conversation_id: str, agent: str, *, is_lead: bool = False) -> None:
        """A resolved chat back to `agent` (Handoff.reopen): from its history page, and to undo
        a resolve whose hand-back to the bot failed."""
        try:
            self.handoff.reopen(conversation_id, agent, is_lead=is_lead)
        except NotYourChat as exc:
            raise DeskForbidden(str(exc)) from exc
        except HandoffError as exc:
            raise DeskError(str(exc)) from exc

    @property
    def agent_timeout_seconds(self) -> float:
        """How long an agent may be gone (offline, or no heartbeat) before their chats are requeued."""
        return self.handoff.agent_timeout_seconds

    def has_held(self, conversation_id: str, agent: str) -> bool:
        """Whether the chat was ever taken by or given to this agent (the handoff's kept history)."""
        return any(entry.get("agent") == agent and entry.get("to") == ASSIGNED
                   for entry in self.handoff.history(conversation_id))

    def set_online(self, agent: str, online: bool) -> None:
        self.handoff.set_online(agent, online)

    def heartbeat(self, agent: str) -> None:
        self.handoff.heartbeat(agent)

    def requeue_abandoned(self):
        return self.handoff.requeue_abandoned()

    def open_chats(self) -> list[Chat]:
        """Every chat with a person or waiting for one: the queue in serving order, then the
        assigned ones, oldest assignment first."""
        return self.handoff.waiting() + self.handoff.assigned()

    def presence(self) -> dict:
        """bot.handoff's Presence of every agent it knows, by name."""
        return self.handoff.presence()

    def online_agents(self) -> list[str]:
        return sorted(self.handoff.online_agents())

    def is_online(self, agent: str) -> bool:
        return bool(self.handoff.is_online(agent))
