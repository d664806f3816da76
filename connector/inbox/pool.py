"""Workers that take conversations from the inbox, one customer at a time.

A worker claims a conversation under a lease (connector/inbox/queue.py: nobody else, in this
process or another, holds it meanwhile), renews the lease while it hands the head of the inbox
to a handler (connector/channel/turns.py), and gives the conversation back. So one customer's
messages are answered in the order they were sent, while several customers are served
concurrently by several workers and several processes.

A process that dies stops renewing; once its leases expire, the recovery that every pool runs
at boot and then periodically schedules those conversations again, and the next holder sees
the "started" mark and asks the tracker (already_handled) before answering again. A message
whose handling began max_attempts times without finishing (the handler raised, or the process
died mid-turn) is dead-lettered, and so is, at once, an item that cannot even be decoded.

Idle workers wait for their next poll or a wake-up: from this process's own intake, or from
any process's (an ingress, another Rasa) over Redis pub/sub (core/channels.py INBOX_READY),
which a thread of the pool listens to and resubscribes to after Redis comes back. Nothing
depends on a wake-up arriving: polling finds the same work.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import uuid
from typing import Awaitable, Callable, Optional

import redis
from prometheus_client import Counter, Histogram

from core.channels import INBOX_READY
from connector.inbox.queue import DONE, STARTED, Ingest, QueuedItem, Undecodable, raw_text
from core.metrics import SECONDS_BUCKETS

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# One connection attempt a second while Redis is away: cheap, and wake-ups resume soon after.
RESUBSCRIBE_SECONDS = 1.0

# Redis going away (failover, restart, network) in the middle of a turn: says nothing about the
# message, so it is retried with backoff and does not count as an attempt.
TRANSIENT = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

TURN_SECONDS = Histogram("whatsapp_turn_seconds", "One customer message's handling (NLU, actions, sends), "
                         "by outcome: answered, or failed (retried later or dead-lettered)",
                         ["outcome"], buckets=SECONDS_BUCKETS)
DEAD_LETTERS = Counter("whatsapp_dead_letters_total", "Customer messages taken out of an inbox unanswered")

AlreadyHandled = Callable[[str, str], Awaitable[bool]]    # (conv, wamid)
# (conv, wamid, raw item as text, reason); called in a worker thread, after the item is in the dead list.
OnDeadLetter = Callable[[str, str, str, str], None]


class WorkerPool:
    def __init__(
        self,
        ingest: Ingest,
        handle: Callable[[QueuedItem], Awaitable[None]],
        size: int = 4,
        poll_seconds: float = 1.0,
        already_handled: Optional[AlreadyHandled] = None,
        on_dead_letter: Optional[OnDeadLetter] = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.ingest = ingest
        self.handle = handle
        self.size = size
        self.poll_seconds = poll_seconds
        self.already_handled = already_handled
        self.on_dead_letter = on_dead_letter
        self.max_attempts = max_attempts
        # Lease owners are "<this>:<worker>": unique per process and per pool, so two pools on
        # one Redis (replicas, or the old and new process of a rolling restart) never match.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._tasks: list[asyncio.Task] = []
        self._workers: list[asyncio.Task] = []
        # Wake-up tokens: each one sends one idle worker to the queue (a worker going idle
        # with one waiting takes it at once), so a wake-up costs one claim, not one per worker.
        self._wake: asyncio.Queue | None = None
        self._stopping = False
        self._wakeups: Wakeups | None = None

    async def start(self) -> None:
        if self._tasks:
            return
        self._wake = asyncio.Queue(maxsize=self.size)
        self._stopping = False
        self._wakeups = Wakeups(self.ingest.redis, asyncio.get_running_loop(), self.wake)
        # Booting in a task lets the server come up even while Redis is briefly unreachable.
        self._tasks = [asyncio.create_task(self._boot(), name="wa-worker-boot")]

    async def _boot(self) -> None:
        delay = self.poll_seconds
        while not self._stopping and not await self._recover():
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30)
        self._workers = [asyncio.create_task(self._run(i), name=f"wa-worker-{i}") for i in range(self.size)]
        self._tasks += [*self._workers, asyncio.create_task(self._recover_periodically(), name="wa-recovery")]

    async def _recover(self) -> bool:
        try:
            count = await asyncio.to_thread(self.ingest.recover)
        except Exception as exc:
            logger.warning("queue recovery failed (%s); retrying", exc)
            return False
        if count:
            logger.info("re-scheduled %d conversation(s) whose worker is gone", count)
            self.wake()
        return True

    async def _recover_periodically(self) -> None:
        # Another process may die at any time; its leases expire after lease_seconds.
        while not self._stopping:
            await asyncio.sleep(self.ingest.lease_seconds)
            await self._recover()

    @property
    def running(self) -> int:
        return sum(1 for t in self._workers if not t.done())

    def wake(self) -> None:
        """New work was queued (by this process, or by another one: Wakeups): no need to wait
        for the next poll."""
        if self._wake is not None and not self._wake.full():
            self._wake.put_nowait(None)

    @property
    def listening(self) -> bool:
        """Subscribed to other processes' wake-ups right now."""
        return self._wakeups is not None and self._wakeups.subscribed.is_set()

    async def stop(self) -> None:
        """Stops the workers mid-turn if need be. Their leases are not released but expire,
        as when a process is killed: the started mark then sends the next holder to the tracker."""
        self._stopping = True
        if self._wakeups is not None:
            self._wakeups.stop()
            self._wakeups = None
        self.wake()
        await asyncio.sleep(0)  # let a booting task add its workers before they are cancelled
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks, self._workers = [], []

    async def _run(self, number: int) -> None:
        owner = f"{self.owner}:{number}"
        while not self._stopping:
            try:
                conv = await asyncio.to_thread(self.ingest.claim, owner)
            except Exception as exc:
                logger.warning("worker %d: cannot reach the queue (%s); retrying", number, exc)
                await asyncio.sleep(self.poll_seconds)
                continue
            if conv is None:
                await self._idle()
                continue
            self.wake()  # more may be waiting: the next idle worker looks, and passes it on
            await self._hold(conv, owner)

    async def _idle(self) -> None:
        assert self._wake is not None
        try:
            await asyncio.wait_for(self._wake.get(), self.poll_seconds)
        except asyncio.TimeoutError:
            pass

    async def _hold(self, conv: str, owner: str) -> None:
        """Serve one message of a leased conversation while renewing the lease. A lease found
        lost stops the turn: the conversation may already be someone else's."""
        serving = asyncio.create_task(self._serve(conv, owner))
        renewing = asyncio.create_task(self._renew(conv, owner, serving))
        try:
            await asyncio.wait({serving})
        finally:
            renewing.cancel()
            serving.cancel()  # a no-op once it finished; when the pool stops, the turn stops too
            await asyncio.gather(serving, renewing, return_exceptions=True)

    async def _renew(self, conv: str, owner: str, serving: asyncio.Task) -> None:
        while True:
            await asyncio.sleep(self.ingest.lease_seconds / 3)
            try:
                held = await asyncio.to_thread(self.ingest.renew, conv, owner)
            except Exception as exc:
                logger.warning("conversation %s: cannot renew the lease (%s); retrying", conv, exc)
                continue
            if not held and not serving.done():  # once done, the lease was let go on purpose
                logger.error("conversation %s: lease expired mid-turn; stopping, its next holder takes over", conv)
                serving.cancel()
                return

    async def _serve(self, conv: str, owner: str) -> None:
        """Holds on through Redis outages, with backoff; the lease keeps others away meanwhile."""
        started: dict[bytes, int] = {}  # items this holder started → attempt number
        delay = self.poll_seconds
        while not self._stopping:
            try:
                await self._serve_once(conv, owner, started)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("conversation %s: queue unavailable (%s); retrying", conv, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)

    async def _serve_once(self, conv: str, owner: str, started: dict[bytes, int]) -> None:
        try:
            item = await asyncio.to_thread(self.ingest.head, conv)
        except Undecodable as bad:
            await self._dead_letter(conv, owner, bad.raw, "", bad.reason, 0)
            return
        if item is None:
            self._after(conv, await asyncio.to_thread(self.ingest.give_back, conv, owner))
            return
        state = await asyncio.to_thread(self.ingest.state, item.wamid, item.conv)
        if state == DONE:  # handled, then the process stopped before the item was removed
            self._after(conv, await asyncio.to_thread(self.ingest.complete, conv, owner, item))
            return
        if state == STARTED:
            # Interrupted mid-turn (a crash, a failed turn, or our own outage): ask the tracker
            # whether Rasa got as far as logging it.
            if await self._in_tracker(item):
                logger.info("conversation %s: %s was already answered", conv, item.wamid)
                self._after(conv, await asyncio.to_thread(self.ingest.complete, conv, owner, item))
                return
            if item.raw not in started:
                attempts = await asyncio.to_thread(self.ingest.attempts, item.conv, item.wamid)
                if attempts >= self.max_attempts:
                    await self._dead_letter(conv, owner, item.raw, item.wamid,
                                            f"interrupted mid-turn {attempts} times", attempts)
                    return
        if item.raw not in started:  # after an outage, the retry continues the same attempt
            started[item.raw] = await asyncio.to_thread(self.ingest.mark_started, item.conv, item.wamid)
        attempt = started[item.raw]
        began = asyncio.get_running_loop().time()
        try:
            await self.handle(item)
        except (asyncio.CancelledError, *TRANSIENT):
            raise
        except Exception as exc:
            TURN_SECONDS.labels("failed").observe(asyncio.get_running_loop().time() - began)
            if attempt >= self.max_attempts:
                logger.exception("conversation %s: handling %s failed, attempt %d", conv, item.wamid, attempt)
                await self._dead_letter(conv, owner, item.raw, item.wamid, f"handler failed: {exc!r}", attempt)
            else:
                # Behind the other customers, so a failing message does not hog a worker.
                logger.exception("conversation %s: handling %s failed, attempt %d of %d; retrying later",
                                 conv, item.wamid, attempt, self.max_attempts)
                self._after(conv, await asyncio.to_thread(self.ingest.give_back, conv, owner))
            return
        TURN_SECONDS.labels("answered").observe(asyncio.get_running_loop().time() - began)
        self._after(conv, await asyncio.to_thread(self.ingest.complete, conv, owner, item))

    async def _in_tracker(self, item: QueuedItem) -> bool:
        if self.already_handled is None:
            return False
        try:
            return await self.already_handled(item.conv, item.wamid)
        except Exception as exc:
            logger.warning("could not check the tracker for %s: %s", item.wamid, exc)
            return False

    async def _dead_letter(self, conv: str, owner: str, raw: bytes, wamid: str, reason: str, attempts: int) -> None:
        verdict = await asyncio.to_thread(self.ingest.dead_letter, conv, owner, raw, wamid, reason, attempts)
        self._after(conv, verdict)
        if verdict == -1:
            return
        DEAD_LETTERS.inc()
        logger.error("conversation %s: message %s dead-lettered: %s", conv, wamid or "(unreadable)", reason)
        if self.on_dead_letter is not None:
            try:
                await asyncio.to_thread(self.on_dead_letter, conv, wamid, raw_text(raw), reason)
            except Exception:
                logger.exception("conversation %s: reporting the dead letter failed (it is in the dead list)", conv)

    def _after(self, conv: str, verdict: int) -> None:
        """What letting go of a conversation did (queue.py: 1 re-queued, 0 released, -1 not ours)."""
        if verdict == 1:
            self.wake()
        elif verdict == -1:
            logger.warning("conversation %s: the lease had expired; its next holder decides", conv)


class Wakeups:
    """INBOX_READY → `wake` on the pool's event loop. A thread of its own (not the loop's
    executor, which the workers' Redis calls share) blocks on the subscription; when Redis goes
    away it subscribes again, every RESUBSCRIBE_SECONDS, until stopped."""

    def __init__(self, client: redis.Redis, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
        self.client, self.loop, self.wake = client, loop, wake
        self.subscribed = threading.Event()
        self._stopped = threading.Event()
        threading.Thread(target=self._run, name="wa-wakeups", daemon=True).start()

    def stop(self) -> None:
        """Returns at once; the thread ends within a second."""
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            pubsub = self.client.pubsub()
            try:
                self._listen(pubsub)
            except redis.RedisError as exc:
                if self.subscribed.is_set():
                    logger.warning("wake-ups from other processes lost (%s); polling until Redis is back", exc)
                self.subscribed.clear()
                self._stopped.wait(RESUBSCRIBE_SECONDS)
            except RuntimeError:  # the event loop closed under a pool that was never stopped
                return
            finally:
                self.subscribed.clear()
                try:
                    pubsub.close()
                except redis.RedisError:
                    pass

    def _listen(self, pubsub: redis.client.PubSub) -> None:
        pubsub.subscribe(INBOX_READY)
        while not self._stopped.is_set():
            message = pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            if message["type"] == "subscribe":
                self.subscribed.set()
                # Work queued while this was not listening (first start, Redis restarting).
                self.loop.call_soon_threadsafe(self.wake)
            elif message["type"] == "message":
                self.loop.call_soon_threadsafe(self.wake)
