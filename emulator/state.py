"""The emulator's memory on disk (EMULATOR_STATE_DIR), so a restart keeps customers, chats and
their 24 h windows: without it, a demo after a second `make run` fails with 131047 because the
emulator forgot the customer wrote.

A JSON snapshot rewritten atomically after every change, and each media file written once
beside it. Chats are customers' messages: directory and files are owner-only. Pending status
webhooks and faults are not kept (a message a restart interrupted keeps its last status).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SNAPSHOT = "state.json"
MEDIA = "media"


def _write_private(path: Path, data: bytes) -> None:
    draft = path.with_name(path.name + ".new")
    draft.unlink(missing_ok=True)
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
        handle.write(data)
    os.replace(draft, path)


class StateStore:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        (self.directory / MEDIA).mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)

    def load(self) -> dict[str, Any] | None:
        path = self.directory / SNAPSHOT
        return json.loads(path.read_text()) if path.exists() else None

    def save(self, snapshot: dict[str, Any]) -> None:
        _write_private(self.directory / SNAPSHOT, json.dumps(snapshot, ensure_ascii=False).encode())

    def save_media(self, media_id: str, data: bytes) -> None:
        _write_private(self.directory / MEDIA / media_id, data)

    def load_media(self, media_id: str) -> bytes | None:
        path = self.directory / MEDIA / media_id
        return path.read_bytes() if path.exists() else None

    def forget_media(self) -> None:
        for path in (self.directory / MEDIA).iterdir():
            path.unlink()


def snapshot(emu) -> dict[str, Any]:
    """What an Emulator keeps across a restart (called with its lock held)."""
    return {"rev": emu.rev, "clock_offset": emu.clock.offset,
            "customers": {k: {**c, "typing_until": 0.0} for k, c in emu.customers.items()},
            "messages": emu.messages, "profile": emu.profile,
            "media": {k: {f: v for f, v in m.items() if f != "data"} for k, m in emu.media.items()}}


def restore(emu, store: StateStore) -> None:
    saved = store.load()
    if saved is None:
        return
    emu.customers = saved["customers"]
    emu.messages = saved["messages"]
    emu.profile = saved.get("profile", {})  # a snapshot from before the profile existed has none
    emu.by_id = {m["id"]: m for m in emu.messages}
    emu.clock.offset = saved["clock_offset"]
    emu.rev = saved["rev"] + 1  # a chat page open across the restart reloads everything
    for media_id, meta in saved["media"].items():
        data = store.load_media(media_id)
        if data is not None:
            emu.media[media_id] = {**meta, "data": data}
