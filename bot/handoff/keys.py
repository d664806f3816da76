"""The handoff's Redis key layout: the one place its key names are written.

Python reads through these methods, and the Lua scripts get the same names as the locals of a
prelude generated here (lua_prelude), so no script spells a key name or a prefix itself. The
events channel comes from core/channels.py, the owner of every pub/sub channel name.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.channels import HANDOFF_EVENTS


@dataclass(frozen=True)
class HandoffKeys:
    prefix: str = "handoff:"
    events: str = HANDOFF_EVENTS

    @property
    def queue(self) -> str:
        """zset conv -> score (-priority * 1e10 + request sequence number)"""
        return self.prefix + "queue"

    @property
    def seq(self) -> str:
        """counter behind the score (first come, first served)"""
        return self.prefix + "seq"

    @property
    def assigned(self) -> str:
        """zset conv -> assigned_at, every chat a person holds"""
        return self.prefix + "assigned"

    @property
    def online(self) -> str:
        """set of agents who said they are online"""
        return self.prefix + "online"

    @property
    def seen(self) -> str:
        """zset agent -> last heartbeat / action"""
        return self.prefix + "seen"

    @property
    def waits(self) -> str:
        """list of recent "seconds waited per queue place" samples"""
        return self.prefix + "waits"

    def conv(self, conv: str) -> str:
        """hash: state, agent, reason, language, name, last_message, priority, queued_at, ..."""
        return self.prefix + "conv:" + conv

    def chats(self, agent: str) -> str:
        """zset conv -> assigned_at, one agent's chats"""
        return self.prefix + "chats:" + agent

    def agent(self, agent: str) -> str:
        """hash: online, online_since, offline_at"""
        return self.prefix + "agent:" + agent

    def history(self, conv: str) -> str:
        """list of JSON transitions (last HISTORY_MAX kept)"""
        return self.prefix + "history:" + conv

    def lua_prelude(self) -> str:
        """Lua locals naming the same keys (and the events channel) for the scripts."""
        fixed = {"QUEUE": self.queue, "SEQ": self.seq, "ASSIGNED": self.assigned,
                 "ONLINE": self.online, "SEEN": self.seen, "WAITS": self.waits, "EVENTS": self.events}
        per_id = {"conv_key": self.conv, "chats_key": self.chats, "agent_key": self.agent,
                  "history_key": self.history}
        lines = ["-- Generated from bot/handoff/keys.py: the key layout's one owner."]
        lines += [f"local {name} = {_lua_string(key)}" for name, key in fixed.items()]
        for name, key_of in per_id.items():
            # The layout appends the id, so the part before it is all Lua needs.
            assert key_of("id") == key_of("") + "id", name
            lines.append(f"local function {name}(id) return {_lua_string(key_of(''))} .. id end")
        return "\n".join(lines) + "\n"


def _lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


KEYS = HandoffKeys()
