"""The handoff's Redis key layout: the one place its key names are written.

Python reads through these attributes, and the Lua scripts get the same names as the locals of
a prelude generated here (lua_prelude: QUEUE, SEQ, ..., EVENTS, conv_key(id), ...), so no
script spells a key name or a prefix itself. The events channel comes from core/channels.py,
the owner of every pub/sub channel name.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.channels import HANDOFF_EVENTS


def _key(name: str, holds: str) -> property:
    return property(lambda self: self.prefix + name, doc=holds)


def _key_of(stem: str, holds: str):
    def key(self, id: str) -> str:
        return self.prefix + stem + id
    key.__doc__ = holds
    return key


# Lua gets QUEUE, SEQ, ... for these, and conv_key(id), ... for the per-id ones.
_FIXED = ("queue", "seq", "assigned", "online", "seen", "waits")
_PER_ID = ("conv", "chats", "agent", "history")


@dataclass(frozen=True)
class HandoffKeys:
    prefix: str = "handoff:"
    events: str = HANDOFF_EVENTS

    queue = _key("queue", "zset conv -> score (-priority * 1e10 + request sequence number)")
    seq = _key("seq", "counter behind the score (first come, first served)")
    assigned = _key("assigned", "zset conv -> assigned_at, every chat a person holds")
    online = _key("online", "set of agents who said they are online")
    seen = _key("seen", "zset agent -> last heartbeat / action")
    waits = _key("waits", 'list of recent "seconds waited per queue place" samples')
    conv = _key_of("conv:", "hash: state, agent, reason, language, name, last_message, priority, "
                            "queued_at, enqueued_at, assigned_at, score, previous_agent, customer_messages, "
                            "last_message_at, ...")
    chats = _key_of("chats:", "zset conv -> assigned_at, one agent's chats")
    agent = _key_of("agent:", "hash: online, online_since, offline_at")
    history = _key_of("history:", "list of JSON transitions (last HISTORY_MAX kept)")

    def lua_prelude(self) -> str:
        """Lua locals naming the same keys, and the events channel, for the scripts."""
        lines = ["-- Generated from bot/handoff/keys.py: the key layout's one owner."]
        lines += [f"local {name.upper()} = {_lua_string(getattr(self, name))}" for name in _FIXED]
        lines.append(f"local EVENTS = {_lua_string(self.events)}")
        lines += [f"local function {name}_key(id) return {_lua_string(getattr(self, name)(''))} .. id end"
                  for name in _PER_ID]
        return "\n".join(lines) + "\n"


def _lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


KEYS = HandoffKeys()
