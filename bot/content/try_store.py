"""Try-it questions and their answers by the draft model, in Redis (owner of `try:*`).

The console asks and reads; the publish worker (bot/content/try_server.py) answers, between
publish jobs.

    try:queue           list of request ids, LPUSH by the console, RPOP by the worker (newest 100)
    try:wake            at most one token: its push ends the worker's wait for a publish job
                        (PublishStore.next_job), so a question is answered as soon as it is asked
    try:request:{id}    JSON: question, user, state (queued, building, done, failed), created,
                        result (the draft model's parse, see TryServer.answer), error (TTL 10 min)
    try:draft           JSON: the draft model now: state (building, ready), started, seconds of
                        the last build (None when it needed none), model
"""
from __future__ import annotations

import json
import secrets
import time
from typing import Optional

import redis

PREFIX = "try:"
QUEUE = PREFIX + "queue"
WAKE = PREFIX + "wake"
DRAFT = PREFIX + "draft"
REQUEST_TTL = 600
QUEUE_KEEP = 100
# A build that outlives this was cut short (the worker stopped): the page must not say "building" forever.
BUILDING_TTL = 600

QUEUED, BUILDING, DONE, FAILED = "queued", "building", "done", "failed"
FINISHED = (DONE, FAILED)


def request_key(request_id: str) -> str:
    return f"{PREFIX}request:{request_id}"


class TryStore:
    def __init__(self, r: redis.Redis) -> None:
        self.redis = r

    # -- console side ---------------------------------------------------------------------------

    def ask(self, question: str, user: str) -> dict:
        request = {"id": secrets.token_hex(8), "question": question, "user": user, "state": QUEUED,
                   "created": time.time(), "result": None, "error": None}
        pipe = self.redis.pipeline()
        pipe.set(request_key(request["id"]), json.dumps(request), ex=REQUEST_TTL)
        pipe.lpush(QUEUE, request["id"])
        pipe.ltrim(QUEUE, 0, QUEUE_KEEP - 1)
        pipe.execute()
        self.wake()
        return request

    def request(self, request_id: str) -> Optional[dict]:
        raw = self.redis.get(request_key(request_id)) if request_id else None
        return json.loads(raw) if raw else None

    def draft(self) -> Optional[dict]:
        raw = self.redis.get(DRAFT)
        return json.loads(raw) if raw else None

    # -- worker side ----------------------------------------------------------------------------

    def wake(self) -> None:
        pipe = self.redis.pipeline()
        pipe.lpush(WAKE, "1")
        pipe.ltrim(WAKE, 0, 0)
        pipe.execute()

    def next_request(self) -> Optional[dict]:
        """The oldest question still waiting (an expired one is skipped)."""
        while True:
            request_id = self.redis.rpop(QUEUE)
            if request_id is None:
                return None
            request = self.request(request_id)
            if request is not None:
                return request

    def pending(self) -> bool:
        return bool(self.redis.llen(QUEUE))

    def save(self, request: dict) -> None:
        self.redis.set(request_key(request["id"]), json.dumps(request), ex=REQUEST_TTL)

    def put_back(self, request: dict) -> None:
        """First in line again (the draft could not be built now)."""
        self.redis.rpush(QUEUE, request["id"])

    def set_draft(self, draft: dict) -> None:
        self.redis.set(DRAFT, json.dumps(draft), ex=BUILDING_TTL if draft["state"] == BUILDING else None)
