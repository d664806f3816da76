"""Puts chats back in the queue when their agent stopped sending heartbeats (closed tab, crash)."""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Janitor:
    def __init__(self, desk, interval_seconds: float = 30.0) -> None:
        self.desk = desk
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="console-janitor", daemon=True)

    def start(self) -> "Janitor":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.desk.requeue_abandoned()
            except Exception:  # keep the loop alive: Redis may be restarting
                log.exception("requeue_abandoned failed; retrying in %ss", self.interval)
