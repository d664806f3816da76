"""Workers that take conversations from the inbox, one customer at a time.

A worker claims a conversation from wa:ready (connector/inbox/queue.py guarantees nobody else
holds it), hands the head of its inbox to a handler (connector/channel/turns.py), and gives the
conversation back. So one customer's messages are answered in the order they were sent, while
several customers are served concurrently.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Optional

import redis

from connector.inbox.queue import DONE, STARTED, Ingest, QueuedItem

logger = logging.getLogger(__name__)

# Redis going away (failover, restart, network) in the middle of a turn.
_TRANSIENT = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

AlreadyHandled = Callable[[str, str], Awaitable[bool]]    # (conv, wamid)


class WorkerPool:
    def __init__(
        self,
        ingest: Ingest,
        handle: Callable[[QueuedItem], Awaitable[None]],
        size: int = 4,
        poll_seconds: float = 1.0,
        already_handled: Optional[AlreadyHandled] = None,
    ) -> None:
        self.ingest = ingest
        self.handle = handle
        self.size = size
        self.poll_seconds = poll_seconds
        self.already_handled = already_handled
        self._tasks: list[asyncio.Task] = []
        self._wake: asyncio.Event | None = None
        self._stopping = False

    async def start(self, recover: bool = True) -> None:
        if self._tasks:
            return
        self._wake = asyncio.Event()
        self._stopping = False
        # Booting in a task lets the server come up even while Redis is briefly unreachable.
        self._tasks = [asyncio.create_task(self._boot(recover), name="wa-worker-boot")]

    async def _boot(self, recover: bool) -> None:
        delay = self.poll_seconds
        while recover and not self._stopping:
            try:
                count = await asyncio.to_thread(self.ingest.recover)
                if count:
                    logger.info("re-scheduled %d conversation(s) queued before the restart", count)
                break
            except Exception as exc:
                logger.warning("queue recovery failed (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
        self._tasks += [asyncio.create_task(self._run(i), name=f"wa-worker-{i}") for i in range(self.size)]

    @property
    def running(self) -> int:
        return sum(1 for t in self._tasks if not t.done())

    def wake(self) -> None:
        """New work was queued by this process: no need to wait for the next poll."""
        if self._wake is not None:
            self._wake.set()

    async def stop(self) -> None:
        self._stopping = True
        self.wake()
        await asyncio.sleep(0)  # let a booting task add its workers before they are cancelled
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks = []

    async def _run(self, number: int) -> None:
        while not self._stopping:
            try:
                conv = await asyncio.to_thread(self.ingest.claim)
            except Exception as exc:
                logger.warning("worker %d: cannot reach the queue (%s); retrying", number, exc)
                await asyncio.sleep(self.poll_seconds)
                continue
            if conv is None:
                await self._idle()
                continue
            await self._serve(conv)

    async def _idle(self) -> None:
        assert self._wake is not None
        try:
            await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()

    async def _serve(self, conv: str) -> None:
        """Handle one message of a held conversation. Holds on through Redis outages (nobody
        else may take the conversation meanwhile); a restart's recover() frees it otherwise."""
        delay = self.poll_seconds
        while not self._stopping:
            try:
                await self._serve_once(conv)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("conversation %s: queue unavailable (%s); retrying", conv, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)

    async def _serve_once(self, conv: str) -> None:
        item = await asyncio.to_thread(self.ingest.head, conv)
        if item is None:
            await asyncio.to_thread(self.ingest.complete, conv, "")
            return
        if await self._should_handle(item):
            await asyncio.to_thread(self.ingest.mark_started, item.wamid)
            try:
                await self.handle(item)
            except (asyncio.CancelledError, *_TRANSIENT):
                # An outage says nothing about the message: _serve retries it with backoff, and
                # the "started" mark makes the retry ask the tracker first.
                raise
            except Exception:
                # Handing it back would block this customer forever on a poison message.
                logger.exception("conversation %s: handling %s failed; moving on", conv, item.wamid)
        if await asyncio.to_thread(self.ingest.complete, conv, item.wamid):
            self.wake()

    async def _should_handle(self, item: QueuedItem) -> bool:
        state = await asyncio.to_thread(self.ingest.state, item.wamid)
        if state == DONE:
            return False  # handled, then the process stopped before the item was removed
        if state == STARTED and self.already_handled is not None:
            # Interrupted mid-turn: ask the tracker whether Rasa got as far as logging it.
            try:
                if await self.already_handled(item.conv, item.wamid):
                    logger.info("conversation %s: %s was answered before the restart", item.conv, item.wamid)
                    return False
            except Exception as exc:
                logger.warning("could not check the tracker for %s: %s", item.wamid, exc)
        return True
