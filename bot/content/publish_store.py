"""Publish jobs, their live progress and the publish history, in Redis (owner of `publish:*`).

The console only enqueues and reads; the publisher worker (bot/content/publisher.py) is the one
writer of a job's progress, of the history and of what is live.

    publish:queue          list of job ids, LPUSH by the console, BRPOP by the worker
    publish:active         id of the job queued or running (SET NX: one publish at a time)
    publish:last           id of the newest job, whatever its state (the console shows it)
    publish:lock           held by the worker running a job or building the try-it draft into
                           var/publish/build (TTL, renewed per stage)
    publish:job:{id}       JSON: kind, user, state, stage, stages [{name, seconds, status}],
                           reason, verdict, model, target (TTL 30 days)
    publish:history        JSON records newest first (initial, publish and rollback), newest 200
    publish:live           JSON of the record whose model the Rasa processes run
    publish:files:{id}     JSON {path: text}: data/ as record {id} made it live, for a record
                           whose data is no git commit (no git repository, or the initial
                           record over uncommitted data); a rollback restores it, and the
                           newest is the next publish's diff base. Deleted with its record
                           when the history is trimmed (newest 200, so at most 200 copies of
                           data/, ~150 KB each)
    publish:worker         heartbeat of a running worker (TTL)
"""
from __future__ import annotations

import json
import secrets
import time
from typing import Optional, Sequence

import redis

PREFIX = "publish:"
QUEUE = PREFIX + "queue"
ACTIVE = PREFIX + "active"
LAST = PREFIX + "last"
LOCK = PREFIX + "lock"
HISTORY = PREFIX + "history"
LIVE = PREFIX + "live"
WORKER = PREFIX + "worker"
JOB_TTL = 30 * 24 * 3600
HISTORY_KEEP = 200
# Longer than any stage: a cold full training on a busy machine takes about a minute.
LOCK_SECONDS = 600
HEARTBEAT_SECONDS = 15

PUBLISH, ROLLBACK = "publish", "rollback"
QUEUED, RUNNING, PUBLISHED, REFUSED, FAILED = "queued", "running", "published", "refused", "failed"
FINISHED = (PUBLISHED, REFUSED, FAILED)


def job_key(job_id: str) -> str:
    return f"{PREFIX}job:{job_id}"


def files_key(record_id: str) -> str:
    return f"{PREFIX}files:{record_id}"


class PublishStore:
    def __init__(self, r: redis.Redis) -> None:
        self.redis = r

    # -- console side ---------------------------------------------------------------------------

    def enqueue(self, user: str, kind: str = PUBLISH, target: Optional[str] = None) -> tuple[dict, bool]:
        """(the job, True) when queued; (the job already queued or running, False) otherwise."""
        job_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)
        if not self.redis.set(ACTIVE, job_id, nx=True):
            current = self.job(self.redis.get(ACTIVE) or "")
            if current is not None and current["state"] not in FINISHED:
                return current, False
            # The active job's record expired or ended: nothing is running under it.
            self.redis.set(ACTIVE, job_id)
        job = {"id": job_id, "kind": kind, "user": user, "target": target, "state": QUEUED,
               "stage": None, "stages": [], "reason": None, "verdict": None, "model": None,
               "created": time.time()}
        self.save(job)
        self.redis.set(LAST, job_id)
        self.redis.lpush(QUEUE, job_id)
        return job, True

    def job(self, job_id: str) -> Optional[dict]:
        raw = self.redis.get(job_key(job_id)) if job_id else None
        return json.loads(raw) if raw else None

    def active(self) -> Optional[dict]:
        return self.job(self.redis.get(ACTIVE) or "")

    def last(self) -> Optional[dict]:
        return self.job(self.redis.get(LAST) or "")

    def history(self, limit: int = 50) -> list[dict]:
        return [json.loads(raw) for raw in self.redis.lrange(HISTORY, 0, limit - 1)]

    def record(self, record_id: str) -> Optional[dict]:
        return next((r for r in self.history(HISTORY_KEEP) if r["id"] == record_id), None)

    def live(self) -> Optional[dict]:
        raw = self.redis.get(LIVE)
        return json.loads(raw) if raw else None

    def worker_alive(self) -> bool:
        return bool(self.redis.exists(WORKER))

    # -- worker side ----------------------------------------------------------------------------

    def save(self, job: dict) -> None:
        self.redis.set(job_key(job["id"]), json.dumps(job), ex=JOB_TTL)

    def next_job(self, timeout: int, wake: Sequence[str] = ()) -> Optional[dict]:
        """The next job, waiting up to `timeout` s; a push to a `wake` list ends the wait early
        with None (the try-it requests: bot/content/try_store.py). Redis pops the first
        non-empty list named, so a queued job always comes before a wake-up."""
        popped = self.redis.brpop([QUEUE, *wake], timeout=timeout)
        return self.job(popped[1]) if popped and popped[0] == QUEUE else None

    def requeue(self, job: dict) -> None:
        self.redis.rpush(QUEUE, job["id"])

    def lock(self, owner: str) -> bool:
        return bool(self.redis.set(LOCK, owner, nx=True, ex=LOCK_SECONDS))

    def renew(self, owner: str) -> None:
        if self.redis.get(LOCK) == owner:
            self.redis.expire(LOCK, LOCK_SECONDS)

    def unlock(self, owner: str) -> None:
        if self.redis.get(LOCK) == owner:
            self.redis.delete(LOCK)

    def finish(self, job: dict, owner: str) -> None:
        self.save(job)
        if self.redis.get(ACTIVE) == job["id"]:
            self.redis.delete(ACTIVE)
        self.unlock(owner)

    def add_history(self, record: dict, files: Optional[dict] = None) -> None:
        """`record` becomes the newest and the live one, with `files` (its data/) when its data
        is no git commit; the files of the records trimmed off the history go with them."""
        trimmed = [json.loads(raw)["id"] for raw in self.redis.lrange(HISTORY, HISTORY_KEEP - 1, -1)]
        pipe = self.redis.pipeline()
        if files is not None:
            pipe.set(files_key(record["id"]), json.dumps(files))
        pipe.lpush(HISTORY, json.dumps(record))
        pipe.ltrim(HISTORY, 0, HISTORY_KEEP - 1)
        pipe.set(LIVE, json.dumps(record))
        if trimmed:
            pipe.delete(*(files_key(i) for i in trimmed))
        pipe.execute()

    def files(self, record_id: str) -> Optional[dict]:
        raw = self.redis.get(files_key(record_id))
        return json.loads(raw) if raw else None

    def heartbeat(self, owner: str) -> None:
        self.redis.set(WORKER, owner, ex=HEARTBEAT_SECONDS)

    def recover(self) -> None:
        """At worker start: a job left `running` by a worker that died is failed, so the
        console's Publish button works again."""
        job = self.active()
        if job is not None and job["state"] == RUNNING and not self.redis.exists(LOCK):
            job.update(state=FAILED, reason="the publish worker stopped during this job")
            self.save(job)
            self.redis.delete(ACTIVE)
