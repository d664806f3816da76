"""Labels on conversations: leads keep the set, agents put them on the chats they hold.

A label is put on the customer's chat now (the handoff episode in progress); when the chat is
resolved, its labels are kept on that episode's record, so the history and the search still
find the conversation by label after the chat went back to the bot.

Keys (owned here; nobody else writes them):
* ``console:labels`` — hash label id → JSON {name, colour}: the set leads manage. Ids never
  change, so a rename or a new colour shows everywhere at once.
* ``console:labels:{conv}`` — set of label ids on the customer's chat now; emptied by the resolve.
* ``console:episodes:{conv}`` — zset of JSON {start, end, agent, labels} scored by end: the
  labelled handoff episodes of that customer, newest ``KEEP_EPISODES``.
* ``console:labelled:{label}`` — zset of "{conv}\\t{start}\\t{end}" scored by start: the episodes
  with that label (end empty while the chat is open), what the search by label reads.
A deleted label disappears from the set and its index; ids left on chats and records name no
label any more and are not shown.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import redis

COLOURS = ("grey", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink")
MAX_NAME = 40
MAX_LABELS = 100
KEEP_EPISODES = 200
# How far a search by label looks, newest labelled episodes first.
SEARCH_EPISODES = 500
# A conversation carries an episode's labels when their times overlap; the console's clock
# (resolve) and Rasa's (the resume event) may differ by this much.
GRACE_SECONDS = 120.0
# An episode begins when the customer was queued; the messages that led to it (the same Rasa
# session, which ends after 60 quiet minutes) come before.
LEAD_SECONDS = 3600.0
OPEN = float("inf")

SET = "console:labels"


def _on(conv: str) -> str:
    return f"console:labels:{conv}"


def _episodes(conv: str) -> str:
    return f"console:episodes:{conv}"


def _labelled(label_id: str) -> str:
    return f"console:labelled:{label_id}"


@dataclass(frozen=True)
class Label:
    id: str
    name: str
    colour: str


@dataclass(frozen=True)
class Episode:
    start: float
    end: float          # OPEN while the chat is with a person
    agent: str
    labels: tuple[str, ...]

    def overlaps(self, started_at: float, ended_at: float) -> bool:
        return self.start - GRACE_SECONDS <= ended_at and started_at <= self.end + GRACE_SECONDS


def episode_start(chat, now: float) -> float:
    """When the chat's handoff episode began: its request, or its reopen if later."""
    times = [t.timestamp() for t in (chat.queued_at, chat.reopened_at) if t is not None]
    return max(times) if times else now


class Labels:
    def __init__(self, r: redis.Redis, clock) -> None:
        self.redis, self.clock = r, clock

    # ---- the set (leads) ------------------------------------------------------------------

    def all(self) -> list[Label]:
        labels = [self._label(i, raw) for i, raw in self.redis.hgetall(SET).items()]
        return sorted(labels, key=lambda label: label.name.lower())

    def get(self, label_id: str) -> Label | None:
        raw = self.redis.hget(SET, label_id)
        return None if raw is None else self._label(label_id, raw)

    def create(self, name: str, colour: str) -> Label:
        name = self._check(name, colour)
        if self.redis.hlen(SET) >= MAX_LABELS:
            raise ValueError(f"There are already {MAX_LABELS} labels; delete one first.")
        label = Label(uuid.uuid4().hex[:10], name, colour)
        self.redis.hset(SET, label.id, json.dumps({"name": label.name, "colour": label.colour}))
        return label

    def update(self, label_id: str, name: str, colour: str) -> Label:
        if self.get(label_id) is None:
            raise KeyError(label_id)
        label = Label(label_id, self._check(name, colour, label_id), colour)
        self.redis.hset(SET, label_id, json.dumps({"name": label.name, "colour": label.colour}))
        return label

    def delete(self, label_id: str) -> bool:
        pipe = self.redis.pipeline()
        pipe.hdel(SET, label_id)
        pipe.delete(_labelled(label_id))
        return bool(pipe.execute()[0])

    # ---- a chat ---------------------------------------------------------------------------

    def on(self, conv: str) -> list[Label]:
        return self._known(self.redis.smembers(_on(conv)))

    def on_many(self, convs) -> dict[str, list[Label]]:
        """conv → the labels on its chat now, for a list of chats (two round trips in all)."""
        convs = list(convs)
        pipe = self.redis.pipeline(transaction=False)
        for conv in convs:
            pipe.smembers(_on(conv))
        known = {label.id: label for label in self.all()}
        return {conv: sorted((known[i] for i in ids if i in known), key=lambda label: label.name.lower())
                for conv, ids in zip(convs, pipe.execute())}

    def put(self, chat, label_id: str) -> None:
        """On the chat now, for the episode in progress (the caller checked the agent may act)."""
        if self.get(label_id) is None:
            raise KeyError(label_id)
        start = episode_start(chat, self.clock.now().timestamp())
        pipe = self.redis.pipeline()
        pipe.sadd(_on(chat.conv), label_id)
        pipe.zadd(_labelled(label_id), {_member(chat.conv, start, None): start})
        pipe.execute()

    def take_off(self, chat, label_id: str) -> None:
        start = episode_start(chat, self.clock.now().timestamp())
        pipe = self.redis.pipeline()
        pipe.srem(_on(chat.conv), label_id)
        pipe.zrem(_labelled(label_id), _member(chat.conv, start, None))
        pipe.execute()

    def close(self, chat, end: float) -> None:
        """The chat was resolved: its labels are kept on the episode's record."""
        start = episode_start(chat, end)

        def move(pipe):
            ids = sorted(pipe.smembers(_on(chat.conv)))
            pipe.multi()
            if ids:
                record = json.dumps({"start": start, "end": end, "agent": chat.agent or "", "labels": ids})
                pipe.zadd(_episodes(chat.conv), {record: end})
                pipe.zremrangebyrank(_episodes(chat.conv), 0, -KEEP_EPISODES - 1)
                for label_id in ids:
                    pipe.zrem(_labelled(label_id), _member(chat.conv, start, None))
                    pipe.zadd(_labelled(label_id), {_member(chat.conv, start, end): start})
            pipe.delete(_on(chat.conv))

        self.redis.transaction(move, _on(chat.conv))

    # ---- reading for the history and the search -------------------------------------------

    def episodes(self, chat) -> list[Episode]:
        """The customer's labelled episodes, newest first, the open one (if labelled) included."""
        out = []
        current = sorted(self.redis.smembers(_on(chat.conv)))
        if current and chat.with_person:
            out.append(Episode(episode_start(chat, self.clock.now().timestamp()), OPEN, chat.agent or "",
                               tuple(current)))
        for raw in self.redis.zrevrange(_episodes(chat.conv), 0, -1):
            item = json.loads(raw)
            out.append(Episode(float(item["start"]), float(item["end"]), item["agent"], tuple(item["labels"])))
        return out

    def of_conversation(self, episodes: list[Episode], started_at: float, ended_at: float,
                        handoff: bool) -> list[Label]:
        """The labels a past conversation (from bot.insights.search) carries."""
        if not handoff:
            return []
        ids = {i for e in episodes if e.overlaps(started_at, ended_at) for i in e.labels}
        return self._known(ids)

    def ranges(self, label_id: str, limit: int = SEARCH_EPISODES) -> tuple[tuple[str, float, float], ...]:
        """(conv, from, to) of the newest episodes with this label, wide enough to hold the
        messages that led to each; bot.insights.search's Query.within."""
        out = []
        for member in self.redis.zrevrange(_labelled(label_id), 0, limit - 1):
            conv, start, end = member.split("\t")
            out.append((conv, float(start) - LEAD_SECONDS, (float(end) if end else OPEN) + GRACE_SECONDS))
        return tuple(out)

    # ---- internals ------------------------------------------------------------------------

    def _check(self, name: str, colour: str, label_id: str | None = None) -> str:
        name = " ".join((name or "").split())
        if not name:
            raise ValueError("A label needs a name.")
        if len(name) > MAX_NAME:
            raise ValueError(f"Label names are limited to {MAX_NAME} characters.")
        if colour not in COLOURS:
            raise ValueError("Pick one of the colours offered.")
        if any(label.name.lower() == name.lower() and label.id != label_id for label in self.all()):
            raise ValueError(f"There is already a label called {name!r}.")
        return name

    def _known(self, ids) -> list[Label]:
        ids = sorted(ids)
        if not ids:
            return []
        found = [self._label(i, raw) for i, raw in zip(ids, self.redis.hmget(SET, ids)) if raw is not None]
        return sorted(found, key=lambda label: label.name.lower())

    @staticmethod
    def _label(label_id: str, raw: str) -> Label:
        item = json.loads(raw)
        return Label(label_id, item["name"], item["colour"])


def _member(conv: str, start: float, end: float | None) -> str:
    return f"{conv}\t{start!r}\t{'' if end is None else repr(end)}"
