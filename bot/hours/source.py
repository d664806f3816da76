"""The schedule file as running processes see it: re-read when it changes on disk.

The console's hours editor saves hours.yml while Rasa's action server keeps running, so a
process asks ``HoursFile.current()`` at each use instead of keeping what it read at start. A
stat() per call is the whole cost; the file is parsed again only when its inode, mtime or size changed.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from bot.hours.schedule import BusinessHours, HoursConfigError, hours_path

log = logging.getLogger(__name__)


class HoursFile:
    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path: Path = hours_path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._hours: BusinessHours | None = None

    def current(self) -> BusinessHours:
        """The schedule in the file now. A file broken after a good read keeps the good one
        (and logs why): a hand edit saved halfway must not silence the bot's hours answers."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            if self._hours is None:
                raise HoursConfigError(
                    f"business hours file {str(self.path)!r} not found (BUSINESS_HOURS_FILE)") from None
            log.error("business hours file %s vanished; keeping the schedule read before", self.path)
            return self._hours
        # The inode too: the console replaces the file atomically, which gives it a new one.
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._hours = BusinessHours.from_file(self.path)
                except HoursConfigError:
                    if self._hours is None:
                        raise
                    log.exception("business hours file %s is invalid; keeping the schedule read before",
                                  self.path)
                self._stamp = stamp
            return self._hours
