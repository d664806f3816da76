"""The publish's regression check (bot/content/regression.py) in a process of its own.

Why a process: the check trains its own model on the training share while the publisher trains
the new one, and on two cores only two processes do that at once (the GIL).
Why one kept process rather than one per publish: a fresh Python spends about 8 s importing
Rasa and loading the sentence encoder before it measures anything, longer than the training
it runs beside; kept, it pays that once per worker start, and its embedding cache already
holds every unchanged example at the next publish.
"""
from __future__ import annotations

import multiprocessing
import time
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Optional


def _prepare() -> None:
    from bot.content import training
    from bot.nlu import embedding

    training._quiet_rasa()
    import rasa.model_training  # noqa: F401 - the slow import, done before the first check

    embedding.warm_up()


def _measure(root: str, cache_dir: str) -> tuple[dict, float]:
    from bot.content import regression

    return regression.measure(Path(root), cache_dir=Path(cache_dir)), time.time()


class CheckRun:
    """One measurement under way."""

    def __init__(self, pending: AsyncResult, owner: "CheckProcess") -> None:
        self._pending, self._owner = pending, owner
        self.started = time.time()
        self.seconds: Optional[float] = None

    def finished(self) -> bool:
        return self._pending.ready()

    def result(self) -> dict:
        try:
            measurement, ended = self._pending.get()
        except Exception as error:  # whatever broke in the child, the publish says so
            raise RuntimeError(f"the regression check failed: {type(error).__name__}: {error}") from error
        # From when it ended, not from now: it may have ended while the training ran.
        self.seconds = round(ended - self.started, 2)
        return measurement

    def stop(self) -> bool:
        """Ends a check still running (the publish stopped early); True if it had to."""
        if self.finished():
            return False
        self._owner.close()
        return True


class CheckProcess:
    """The kept process; started on first use, and again after a check had to be stopped."""

    def __init__(self) -> None:
        self._pool: Optional[Pool] = None

    def start(self, root: Path, cache_dir: Path) -> CheckRun:
        if self._pool is None:
            # spawn, not fork: the worker holds a Redis connection and Rasa's threads.
            self._pool = multiprocessing.get_context("spawn").Pool(1, initializer=_prepare)
        return CheckRun(self._pool.apply_async(_measure, (str(root), str(cache_dir))), self)

    def measure(self, root: Path, cache_dir: Path) -> dict:
        return self.start(root, cache_dir).result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
