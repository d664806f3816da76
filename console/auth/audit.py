"""Who did what to users and chats from the leads' pages: a short log, newest first.

Key (owned here): console:audit — list of JSON entries {at (ISO), by, action, target, detail},
newest at the head, trimmed to KEEP. A trail for the team page, not a compliance archive: the
handoff history (bot/handoff) keeps every chat transition for good.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

KEY = "console:audit"
KEEP = 200


@dataclass(frozen=True)
class Entry:
    at: datetime
    by: str
    action: str
    target: str
    detail: str = ""


class AuditLog:
    def __init__(self, r, clock) -> None:
        self.redis = r
        self.clock = clock

    def record(self, by: str, action: str, target: str, detail: str = "") -> None:
        entry = {"at": self.clock.now().isoformat(), "by": by, "action": action, "target": target,
                 "detail": detail}
        pipe = self.redis.pipeline()
        pipe.lpush(KEY, json.dumps(entry))
        pipe.ltrim(KEY, 0, KEEP - 1)
        pipe.execute()

    def recent(self, limit: int = 50) -> list[Entry]:
        entries = []
        for raw in self.redis.lrange(KEY, 0, limit - 1):
            data = json.loads(raw)
            entries.append(Entry(datetime.fromisoformat(data["at"]), data["by"], data["action"],
                                 data["target"], data.get("detail", "")))
        return entries
