"""The handoff's Redis key layout: the one place its key names are written.

Python reads through these attributes, and the Lua scripts get the same keys through KEYS: the
fixed ones first (call_keys), then the keys of the conversations and agents the call may touch,
which the generated prelude (lua_prelude) files by kind so a script asks conv_key(id), ...
and gets back one of KEYS. No script spells or builds a key name; a key a call did not declare
raises UNDECLARED before the script writes anything (bot/handoff/__init__.py reads again and
retries). Every name carries the hash tag {handoff}: a transition touches the queue, the
conversation and the agents in one script, so on Redis Cluster the whole handoff lives in one
slot (its traffic is people's: requests, claims, clicks). The events channel comes from
core/channels.py, the owner of every pub/sub channel name.
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


# Lua gets QUEUE, SEQ, ... for these (KEYS[1..6]), and conv_key(id), ... for the per-id ones.
_FIXED = ("queue", "seq", "assigned", "online", "seen", "waits")
_OF_CONV = ("conv", "history")
_OF_AGENT = ("chats", "agent")


@dataclass(frozen=True)
class HandoffKeys:
    prefix: str = "handoff:{handoff}:"
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

    def call_keys(self, convs=(), agents=(), first: tuple[str, ...] = ()) -> list[str]:
        """KEYS of one script call: the fixed keys, `first` (read_many's sorted set), then the keys
        of every conversation and agent it may touch."""
        keys = [getattr(self, name) for name in _FIXED] + list(first)
        keys += [getattr(self, name)(conv) for conv in dict.fromkeys(convs) for name in _OF_CONV]
        keys += [getattr(self, name)(agent) for agent in dict.fromkeys(agents) for name in _OF_AGENT]
        return keys

    def lua_prelude(self) -> str:
        """Lua locals for the fixed keys and the events channel, and the declared keys by kind."""
        lines = ["-- Generated from bot/handoff/keys.py: the key layout's one owner."]
        lines.append(f"local {', '.join(n.upper() for n in _FIXED)} = "
                     + ", ".join(f"KEYS[{i}]" for i in range(1, len(_FIXED) + 1)))
        lines.append(f"local EVENTS = {_lua_string(self.events)}")
        stems = ", ".join(f"{name} = {_lua_string(getattr(self, name)(''))}" for name in _OF_CONV + _OF_AGENT)
        lines += [
            f"local DECLARED = {{{', '.join(f'{name} = {{}}' for name in _OF_CONV + _OF_AGENT)}}}",
            f"for i = {len(_FIXED) + 1}, #KEYS do",
            f"  for kind, stem in pairs({{{stems}}}) do",
            "    if string.sub(KEYS[i], 1, #stem) == stem then DECLARED[kind][string.sub(KEYS[i], #stem + 1)] = KEYS[i] end",
            "  end",
            "end",
            "local function declared(kind, id) return DECLARED[kind][id] ~= nil end",
            "local function undeclared(kind, id) return error('UNDECLARED ' .. kind .. ' ' .. id) end",
        ]
        lines += [f"local function {name}_key(id) return DECLARED.{name}[id] or undeclared('{name}', id) end"
                  for name in _OF_CONV + _OF_AGENT]
        return "\n".join(lines) + "\n"


def _lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


KEYS = HandoffKeys()
