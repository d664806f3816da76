"""Human handoff: the conversation lifecycle bot → queued → assigned → resolved → bot.

Redis is the only source of truth, so every console page, the connector and the actions see
the same state. Each transition is one Lua script (bot/handoff/lua/) that checks the current
state, moves the conversation, appends to its history and publishes a JSON event on
core/channels.py's HANDOFF_EVENTS, all at once, so two agents clicking "claim" together get
exactly one winner and nobody ever sees half a transition.

Keys: all ``handoff:{handoff}:*``, owned here and named in one place, bot/handoff/keys.py (what
each holds is written there, and why one hash tag), which also generates how the Lua scripts
find them among KEYS. Each call declares the conversations and agents it may touch; what is
read first for that (who holds the chat, the head of the queue) is checked by the script, which
refuses an undeclared key before it writes anything, and the call then reads again.

Decisions:
* ``resolve`` goes assigned → resolved → bot in one step (two history entries, two events): the
  bot must answer the customer's very next message, so "resolved" is never a resting state.
* A chat sent back to the queue (``transfer(..., to_agent=None)`` or an abandoned chat) keeps
  its original place: it keeps the score of its first request, so it goes ahead of everyone who
  asked after it, but not ahead of higher priorities or of earlier customers. The customer has
  already waited once; they should not wait from scratch.
* Claiming a chat counts as a heartbeat and marks the agent online: someone clicking "claim" is
  at the desk, and otherwise the janitor could take the chat away again straight after.
* Abandoned chats: an agent is gone since they set themselves offline, or since their last
  heartbeat while nominally online. After HANDOFF_AGENT_TIMEOUT seconds (default 120) their chats
  are requeued by ``requeue_abandoned()``, which the console's background thread
  (console/janitor.py) calls periodically; it is idempotent and cheap, so any process may call it.
* ETA: with at least MIN_WAIT_SAMPLES recent claims, the moving average of the last 20
  "seconds waited / place in the queue when joining" samples × position (measured pace, which
  already reflects how many agents were working). Otherwise avg_handle_seconds × position /
  online agents. None when no agent is online: nobody is coming, so a number would be a lie
  (the caller should phrase business hours instead).
* ``reopen`` takes a resolved chat (state "bot" since its resolve) straight back to an agent:
  bot → assigned, not through the queue, so nobody else can claim it in between. An agent may
  reopen only a chat resolved from them; a lead any. A chat the customer left from the queue
  was never resolved and cannot be reopened (it was never anyone's).
* Times are passed in from the Python clock, never Redis' TIME, so tests run on FixedClock.
"""
from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path
from typing import Any

from redis.exceptions import ResponseError

from bot.handoff import metrics
from bot.handoff.keys import KEYS, HandoffKeys
from bot.handoff.records import (ASSIGNED, BOT, QUEUED, RESOLVED, STATES, AgentOffline, Conversation,  # noqa: F401
                                 HandoffError, InvalidTransition, NotYourChat, Presence, Ticket, _time)
from core.clock import SYSTEM_CLOCK, Clock

HISTORY_MAX = 200
MIN_WAIT_SAMPLES = 3
MAX_PRIORITY = 100
MAX_TEXT = 1000
DEFAULT_AGENT_TIMEOUT = 120.0
# Tries of a call whose declared keys went stale under it (another call moved the chat between).
DECLARE_TRIES = 10
# claim_next declares the first chats of the queue, not only the head: agents taking chats at
# the same moment move the head between the read and the script.
CLAIM_NEXT_DECLARES = 16

_LUA_DIR = Path(__file__).with_name("lua")
_SCRIPTS = ("request", "claim", "claim_next", "assign", "transfer", "resolve", "cancel", "update_message",
            "set_online", "requeue_abandoned", "read_many", "reopen", "presence")


@functools.lru_cache(maxsize=4)
def _script_sources(keys: HandoffKeys) -> dict[str, str]:
    """Each script after the key layout's prelude and the shared lib, read from disk once per
    process: actions and the connector build a Handoff per use, and the files never change."""
    lib = keys.lua_prelude() + (_LUA_DIR / "lib.lua").read_text()
    return {name: lib + "\n" + (_LUA_DIR / f"{name}.lua").read_text() for name in _SCRIPTS}


class Handoff:
    def __init__(
        self,
        redis,
        clock: Clock = SYSTEM_CLOCK,
        avg_handle_seconds: float = 300,
        agent_timeout_seconds: float | None = None,
        keys: HandoffKeys = KEYS,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.clock = clock
        self.avg_handle_seconds = avg_handle_seconds
        if agent_timeout_seconds is None:
            agent_timeout_seconds = float(os.environ.get("HANDOFF_AGENT_TIMEOUT") or DEFAULT_AGENT_TIMEOUT)
        self.agent_timeout_seconds = agent_timeout_seconds
        self._scripts = {name: redis.register_script(source) for name, source in _script_sources(keys).items()}

    # ---- customer side -------------------------------------------------------------------

    def request(
        self,
        conv: str,
        reason: str = "",
        language: str = "es",
        name: str = "",
        last_message: str = "",
        priority: int = 0,
    ) -> Ticket:
        """Queue the conversation for a person. Idempotent while queued or assigned."""
        priority = int(priority)
        if not -MAX_PRIORITY <= priority <= MAX_PRIORITY:
            raise ValueError(f"priority must be between {-MAX_PRIORITY} and {MAX_PRIORITY}")
        state, position, created = self._run(
            "request", _id(conv), convs=(conv,), args=( reason or "", language or "es", name or "", _clip(last_message), priority)
        )
        position = int(position)
        return Ticket(position, self.estimate_wait(position), state, bool(int(created)))

    def cancel(self, conv: str) -> bool:
        """The customer went back to the bot while waiting. False if they were not waiting.

        Raises InvalidTransition once an agent holds the chat: the customer should be told a
        person is already with them rather than be silently taken away.
        """
        status, state = self._run("cancel", _id(conv), convs=(conv,))
        if status == "invalid":
            raise InvalidTransition(conv, state, "cancel", "an agent already has it")
        return status == "ok"

    def update_last_message(self, conv: str, text: str | None) -> bool:
        """A customer message reached the person: counted, and the queue view's preview set to
        `text` (None keeps the preview: not text, e.g. a photo). False (and no write) when no
        person is involved."""
        return bool(self._run("update_message", _id(conv), convs=(conv,), args=("0" if text is None else "1", _clip(text))))

    # ---- reading -------------------------------------------------------------------------

    def state(self, conv: str) -> Conversation:
        """Always a Conversation; state "bot" when the chat was never handed off."""
        return Conversation.from_hash(conv, self.redis.hgetall(self.keys.conv(conv)))

    def position(self, conv: str) -> int | None:
        rank = self.redis.zrank(self.keys.queue, conv)
        return None if rank is None else rank + 1

    def eta(self, conv: str) -> int | None:
        position = self.position(conv)
        return None if position is None else self.estimate_wait(position)

    def ticket(self, conv: str) -> Ticket:
        record = self.state(conv)
        if record.state == QUEUED:
            position = self.position(conv) or 0
            return Ticket(position, self.estimate_wait(position), QUEUED)
        return Ticket(0, 0 if record.state == ASSIGNED else None, record.state)

    def estimate_wait(self, position: int) -> int | None:
        if position <= 0:
            return 0
        agents = len(self.online_agents())
        if agents == 0:
            return None
        samples = [float(s) for s in self.redis.lrange(self.keys.waits, 0, -1)]
        if len(samples) >= MIN_WAIT_SAMPLES:
            return int(round(sum(samples) / len(samples) * position))
        return int(math.ceil(self.avg_handle_seconds * position / agents))

    def waiting(self) -> list[Conversation]:
        """The queue in serving order (priority, then arrival), with positions from 1."""
        return [
            Conversation.from_hash(conv, h, position=i)
            for i, (conv, h) in enumerate(self._read_many(self.keys.queue), start=1)
        ]

    def assigned(self) -> list[Conversation]:
        """Every chat a person holds, oldest assignment first (the supervisor's view)."""
        return [Conversation.from_hash(conv, h) for conv, h in self._read_many(self.keys.assigned)]

    def assigned_to(self, agent: str) -> list[Conversation]:
        return [Conversation.from_hash(conv, h) for conv, h in self._read_many(self.keys.chats(agent))]

    def history(self, conv: str) -> list[dict[str, Any]]:
        return [json.loads(item) for item in self.redis.lrange(self.keys.history(conv), 0, -1)]

    # ---- agent side ----------------------------------------------------------------------

    def claim(self, conv: str, agent: str) -> bool:
        """Take a queued chat. Exactly one of several simultaneous callers gets True."""
        claimed = bool(self._run("claim", _id(conv), _id(agent, "agent"), convs=(conv,), agents=(agent,)))
        if claimed:
            metrics.served(self, conv)
        return claimed

    def claim_next(self, agent: str) -> str | None:
        """Take the head of the queue; None when it is empty."""
        conv = self._run("claim_next", _id(agent, "agent"), agents=(agent,),
                         convs=lambda: self.redis.zrange(self.keys.queue, 0, CLAIM_NEXT_DECLARES - 1)) or None
        if conv:
            metrics.served(self, conv)
        return conv

    def assign(self, conv: str, agent: str, by_lead: str) -> None:
        """A lead gives a waiting chat to an online agent (the caller checks that by_lead is a lead).
        Unlike a claim it is no proof the agent is at the desk, so it does not count as their heartbeat."""
        status, detail = self._run("assign", _id(conv), _id(agent, "agent"), convs=(conv,), agents=(agent,),
                                   args=(_id(by_lead, "agent"), repr(float(self.agent_timeout_seconds))))
        if status == "invalid":
            raise InvalidTransition(conv, detail, "assign", "only waiting chats can be assigned")
        if status == "offline":
            raise AgentOffline(conv, detail)
        metrics.served(self, conv)

    def transfer(self, conv: str, by_agent: str, to_agent: str | None = None, is_lead: bool = False) -> Ticket:
        """Hand an assigned chat to another online agent, or back to the queue (to_agent=None).

        An empty to_agent also means the queue: that is what an unselected form field sends.
        """
        to_agent = (to_agent or "").strip() or None
        status, detail = self._run(
            "transfer", _id(conv), _id(by_agent, "agent"), convs=(conv,),
            agents=lambda: [self._holder(conv), *([to_agent] if to_agent else [])],
            args=(to_agent or "", "1" if is_lead else "0", repr(float(self.agent_timeout_seconds))),
        )
        if status == "invalid":
            raise InvalidTransition(conv, detail, "transfer", "only assigned chats can be transferred")
        if status == "not_yours":
            raise NotYourChat(conv, by_agent, detail, "transfer")
        if status == "same_agent":
            raise InvalidTransition(conv, ASSIGNED, "transfer", f"it is already assigned to {detail!r}")
        if status == "offline":
            raise AgentOffline(conv, detail)
        if to_agent:
            return Ticket(0, 0, ASSIGNED)
        position = int(detail)
        return Ticket(position, self.estimate_wait(position), QUEUED)

    def resolve(self, conv: str, by_agent: str, is_lead: bool = False) -> None:
        """Close the chat: assigned → resolved → bot."""
        status, detail = self._run("resolve", _id(conv), _id(by_agent, "agent"), convs=(conv,),
                                   agents=lambda: [self._holder(conv)], args=("1" if is_lead else "0",))
        if status == "invalid":
            raise InvalidTransition(conv, detail, "resolve", "only assigned chats can be resolved")
        if status == "not_yours":
            raise NotYourChat(conv, by_agent, detail, "resolve")

    def reopen(self, conv: str, agent: str, is_lead: bool = False) -> None:
        """A resolved chat back to `agent`: bot → assigned (see the module's decisions)."""
        status, detail = self._run("reopen", _id(conv), _id(agent, "agent"), convs=(conv,), agents=(agent,),
                                   args=("1" if is_lead else "0",))
        if status == "invalid":
            raise InvalidTransition(conv, detail, "reopen", "a person already has it")
        if status == "not_resolved":
            raise InvalidTransition(conv, BOT, "reopen", "it was never resolved by an agent")
        if status == "not_yours":
            raise NotYourChat(conv, agent, detail, "reopen")

    # ---- presence ------------------------------------------------------------------------

    def set_online(self, agent: str, online: bool) -> bool:
        """Returns True when this changed the agent's status (an event was published)."""
        return bool(self._run("set_online", _id(agent, "agent"), agents=(agent,), args=("1" if online else "0",)))

    def heartbeat(self, agent: str) -> None:
        self.redis.zadd(self.keys.seen, {_id(agent, "agent"): self._now()})

    def presence(self) -> dict[str, Presence]:
        """Every agent who ever said they were online or was seen, by name."""
        said, flat_seen = self._run("presence")
        said, seen = set(said), {agent: float(at) for agent, at in zip(flat_seen[::2], flat_seen[1::2])}
        fresh_after = self._now() - self.agent_timeout_seconds
        return {agent: Presence(agent, agent in said, _time(seen.get(agent)),
                                agent in said and seen.get(agent, -math.inf) >= fresh_after)
                for agent in sorted(set(said) | set(seen))}

    def online_agents(self) -> list[str]:
        """Agents who are online and have been seen within the agent timeout."""
        return [agent for agent, p in self.presence().items() if p.online]

    def is_online(self, agent: str) -> bool:
        return agent in self.online_agents()

    def requeue_abandoned(self, offline_after_seconds: float | None = None) -> list[str]:
        """Return the chats of agents gone for too long to the queue; the ids moved.

        Meant to be called every few seconds by the console's background thread.
        """
        timeout = self.agent_timeout_seconds if offline_after_seconds is None else offline_after_seconds
        def held() -> tuple[list[str], list[str]]:
            convs = self.redis.zrange(self.keys.assigned, 0, -1)
            return convs, [self._holder(conv) for conv in convs]

        return list(self._run("requeue_abandoned", args=(repr(float(timeout)),), both=held))

    # ---- events --------------------------------------------------------------------------

    def subscribe(self, timeout: float = 5.0):
        """A pub/sub already listening to handoff events (decode ``data`` with json.loads).

        Returns only once Redis confirmed the subscription, so no event published after this
        call can be missed.
        """
        pubsub = self.redis.pubsub()
        pubsub.subscribe(self.keys.events)
        message = pubsub.get_message(timeout=timeout)
        if not message or message.get("type") != "subscribe":
            pubsub.close()
            raise TimeoutError(f"Redis did not confirm the subscription to {self.keys.events}")
        pubsub.ignore_subscribe_messages = True
        return pubsub

    # ---- internals -----------------------------------------------------------------------

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _holder(self, conv: str) -> str:
        return self.redis.hget(self.keys.conv(conv), "agent") or ""

    def _run(self, name: str, *ids: str, args: tuple = (), convs=(), agents=(), both=None, first=()):
        """Run a script with the keys of `convs` and `agents` declared (each a sequence, or a
        callable that reads them now; `both` reads the two at once). Read again and retried when
        the script found what it read stale (it refused before writing anything)."""
        for _ in range(DECLARE_TRIES):
            if both is not None:
                declared_convs, declared_agents = both()
            else:
                declared_convs = convs() if callable(convs) else convs
                declared_agents = agents() if callable(agents) else agents
            keys = self.keys.call_keys(declared_convs, declared_agents, first)
            try:
                return self._scripts[name](keys=keys, args=[repr(self._now()), HISTORY_MAX, *ids, *args])
            except ResponseError as exc:
                if "UNDECLARED" not in str(exc):
                    raise
        raise RuntimeError(f"handoff {name}: the chats kept changing under it ({DECLARE_TRIES} tries)")

    def _read_many(self, zset: str) -> list[tuple[str, dict[str, str]]]:
        flat = self._run("read_many", first=(zset,), convs=lambda: self.redis.zrange(zset, 0, -1))
        return [(flat[i], dict(zip(flat[i + 1][::2], flat[i + 1][1::2]))) for i in range(0, len(flat), 2)]


def _id(value: str, what: str = "conversation") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} id must be a non-empty string, got {value!r}")
    return value


def _clip(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
