"""Private notes on a conversation: for agents only, never sent to the customer."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import redis

MAX_NOTE = 2000
KEEP = 200


@dataclass(frozen=True)
class Note:
    author: str
    text: str
    at: datetime


class Notes:
    def __init__(self, r: redis.Redis, clock) -> None:
        self.redis = r
        self.clock = clock

    @staticmethod
    def _key(conversation_id: str) -> str:
        return f"console:notes:{conversation_id}"

    def add(self, conversation_id: str, author: str, text: str) -> Note:
        text = text.strip()
        if not text:
            raise ValueError("A note cannot be empty.")
        if len(text) > MAX_NOTE:
            raise ValueError(f"Notes are limited to {MAX_NOTE} characters.")
        note = Note(author, text, self.clock.now())
        key = self._key(conversation_id)
        pipe = self.redis.pipeline()
        pipe.rpush(key, json.dumps({"author": author, "text": text, "at": note.at.isoformat()}))
        pipe.ltrim(key, -KEEP, -1)
        pipe.execute()
        return note

    def list(self, conversation_id: str) -> list[Note]:
        notes = []
        for raw in self.redis.lrange(self._key(conversation_id), 0, -1):
            item = json.loads(raw)
            notes.append(Note(item["author"], item["text"], datetime.fromisoformat(item["at"])))
        return notes
