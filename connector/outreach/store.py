"""The durable record of business-initiated sends (alerts, campaigns): what was asked, when it is
due, and what became of it. Rasa's reminders live in memory; these survive any restart.

A send moves through STATES:
  scheduled → sending → sent                     the normal way (Meta returned a wamid)
  scheduled → deferred → … → sending             not now (tier full, marketing paused): kept, retried
  scheduled → refused                            never goes (no consent, template not sendable)
  sending → failed | unknown                     Meta refused / may have accepted (never re-sent)
  scheduled | deferred → held → scheduled        a campaign stopped and resumed
  scheduled | deferred | held → cancelled
Only the worker holding a send's lease changes it while it is claimed. A worker that dies leaves
its lease to expire: `recover` puts a claimed send back on the schedule, except one already
"sending" (its POST may have reached Meta), which becomes "unknown" for a person to check — a
duplicate to a customer is worse than a missing one.

Idempotency: a submission carries the client's key, scoped per client. The same key with the same
request returns the first submission's ids; with a different request it is a conflict. The whole
submission (every send and the key) is written by one script, so two racing requests with one key
cannot both create sends.

Keys (owned here), all under the hash tag {out}: a submission writes its sends and its key in one
script, and a claim or a recovery moves sends between the schedule and the leases, so on Redis
Cluster the whole store lives in one slot (business-initiated sends come at the pace of the
messaging tier). Every key a script touches is in its KEYS: a claim and a recovery read the ids
first and the script takes only those still due (or still expired), so a racing worker's are
left alone.
  out:{out}:send:<id>    hash: id, client, key, batch, campaign, to, contact, template, language,
                         params (JSON), purpose, category, body (the Cloud API template object,
                         JSON), text, due/created/updated/sent_at (epoch ms), state, reason, wamid,
                         retries, owner (the worker holding it), history (pending|done) and
                         history_tries (written by history.py);
                         expires RETENTION after it ends (sent, refused, failed, unknown, cancelled)
  out:{out}:due          sorted set: id → due epoch ms (scheduled and deferred sends only)
  out:{out}:leases       sorted set: id → lease expiry epoch ms (claimed by a worker)
  out:{out}:idem:<client>:<key> JSON {fingerprint, batch, ids}, IDEM_TTL
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Iterable

from core.clock import SYSTEM_CLOCK, Clock

SCHEDULED, DEFERRED, SENDING, SENT = "scheduled", "deferred", "sending", "sent"
REFUSED, FAILED, UNKNOWN, CANCELLED, HELD = "refused", "failed", "unknown", "cancelled", "held"
STATES = (SCHEDULED, DEFERRED, HELD, SENDING, SENT, REFUSED, FAILED, UNKNOWN, CANCELLED)
FINAL = (SENT, REFUSED, FAILED, UNKNOWN, CANCELLED)
PREFIX = "out:{out}:"
DUE_KEY, LEASES_KEY = PREFIX + "due", PREFIX + "leases"
RETENTION = dt.timedelta(days=90)
IDEM_TTL = dt.timedelta(days=180)  # longer than RETENTION plus the furthest allowed send_at
LOST_IN_FLIGHT = ("the worker stopped while sending it: the message may have reached the customer, "
                  "so it is not sent again; check with the customer")


def send_key(send_id: str) -> str:
    return f"{PREFIX}send:{send_id}"


def _idem_key(client: str, key: str) -> str:
    return f"{PREFIX}idem:{client}:{key}"


def to_ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def from_ms(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    return dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.timezone.utc)


# KEYS: idem key, due, then each send's hash in the order of ARGV[3]. ARGV: fingerprint, batch,
# JSON list of send hashes, idem ttl s, now ms.
# Returns {"created"|"existing"|"conflict", batch, ids JSON}.
_SUBMIT = """
local stored = redis.call('GET', KEYS[1])
if stored then
  local s = cjson.decode(stored)
  if s.fingerprint ~= ARGV[1] then return {'conflict', s.batch, cjson.encode(s.ids)} end
  return {'existing', s.batch, cjson.encode(s.ids)}
end
local sends = cjson.decode(ARGV[3])
local ids = {}
for i, send in ipairs(sends) do
  local key = KEYS[2 + i]
  for name, value in pairs(send) do redis.call('HSET', key, name, tostring(value)) end
  if send.state == 'scheduled' then redis.call('ZADD', KEYS[2], send.due, send.id) end
  ids[i] = send.id
end
redis.call('SET', KEYS[1], cjson.encode({fingerprint = ARGV[1], batch = ARGV[2], ids = ids}), 'EX', ARGV[4])
return {'created', ARGV[2], cjson.encode(ids)}
"""

# KEYS: due, leases, then the hash of each id in ARGV[4..]. ARGV: now ms, owner, lease expiry
# ms, ids read as due. Moves those still due to the leases; returns them.
_CLAIM = """
local ids = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local due = redis.call('ZSCORE', KEYS[1], id)
  if due and tonumber(due) <= tonumber(ARGV[1]) then
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    redis.call('HSET', KEYS[i - 1], 'owner', ARGV[2])
    ids[#ids + 1] = id
  end
end
return ids
"""

# KEYS: send. ARGV: owner, now ms. The send's POST may start: the point of no automatic return.
_START = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'scheduled' and state ~= 'deferred' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'sending', 'updated', ARGV[2])
return 1
"""

# KEYS: send, leases, due. ARGV: owner, id, fields JSON, due ms ('' = not rescheduled), ttl s
# ('' = keep).
# Ends the lease; when the send was held or cancelled meanwhile, only the lease is let go.
_FINISH = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'owner')
redis.call('ZREM', KEYS[2], ARGV[2])
local fields = cjson.decode(ARGV[3])
if next(fields) == nil then
  local state = redis.call('HGET', KEYS[1], 'state')
  if state == 'scheduled' or state == 'deferred' then
    redis.call('ZADD', KEYS[3], redis.call('HGET', KEYS[1], 'due'), ARGV[2])
  end
  return 1
end
for name, value in pairs(fields) do redis.call('HSET', KEYS[1], name, tostring(value)) end
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2]) end
if ARGV[5] ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
return 1
"""

# KEYS: leases, due, then the hash of each id in ARGV[4..]. ARGV: now ms, lost reason, ttl s,
# ids read as expired. Those still expired: back on the schedule, or "unknown" when the POST had
# begun. Returns the ids that became unknown.
_RECOVER = """
local lost = {}
for i = 4, #ARGV do
  local id, key = ARGV[i], KEYS[i - 1]
  local expiry = redis.call('ZSCORE', KEYS[1], id)
  if expiry and tonumber(expiry) <= tonumber(ARGV[1]) then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', key, 'owner')
    local state = redis.call('HGET', key, 'state')
    if state == 'sending' then
      redis.call('HSET', key, 'state', 'unknown', 'reason', ARGV[2], 'updated', ARGV[1])
      redis.call('EXPIRE', key, ARGV[3])
      lost[#lost + 1] = id
    elseif state == 'scheduled' or state == 'deferred' then
      redis.call('ZADD', KEYS[2], ARGV[1], id)
    end
  end
end
return lost
"""

# KEYS: send, due. ARGV: id, from states (JSON list), to state, now ms, reason, ttl s ('' = keep),
# due ms ('' = keep). A state change by a person (hold, release, cancel), never of a claimed send's
# POST: a claimed send may still be held or cancelled, and its worker then lets it go (_START).
_MOVE = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
local allowed = false
for _, s in ipairs(cjson.decode(ARGV[2])) do if s == state then allowed = true end end
if not allowed then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'updated', ARGV[4], 'reason', ARGV[5])
if ARGV[3] == 'scheduled' then
  local due = ARGV[7]
  if due == '' then due = redis.call('HGET', KEYS[1], 'due') end
  if tonumber(due) < tonumber(ARGV[4]) then due = ARGV[4] end
  redis.call('HSET', KEYS[1], 'due', due)
  if not redis.call('HGET', KEYS[1], 'owner') then redis.call('ZADD', KEYS[2], due, ARGV[1]) end
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
if ARGV[6] ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[6]) end
return 1
"""


class IdempotencyConflict(ValueError):
    """The client's key was used before for a different request."""

    def __init__(self, key: str, batch: str, ids: list[str]) -> None:
        super().__init__(f"idempotency key {key!r} was already used for a different request "
                         f"(batch {batch}); use a new key for a new request")
        self.key, self.batch, self.ids = key, batch, ids


@dataclass
class Send:
    """One send as stored (times are aware datetimes, params a list, body a dict)."""

    id: str
    contact: str
    to: str
    template: str
    language: str
    params: list
    purpose: str
    category: str
    body: dict
    text: str
    due: dt.datetime
    state: str
    client: str = ""
    key: str = ""
    batch: str = ""
    campaign: str = ""
    reason: str = ""
    wamid: str = ""
    retries: int = 0
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    history: str = ""

    @classmethod
    def from_hash(cls, data: dict) -> "Send":
        return cls(
            id=data["id"], contact=data.get("contact", ""), to=data.get("to", ""),
            template=data.get("template", ""), language=data.get("language", ""),
            params=json.loads(data.get("params") or "[]"), purpose=data.get("purpose", ""),
            category=data.get("category", ""), body=json.loads(data.get("body") or "{}"),
            text=data.get("text", ""), due=from_ms(data.get("due")), state=data.get("state", ""),
            client=data.get("client", ""), key=data.get("key", ""), batch=data.get("batch", ""),
            campaign=data.get("campaign", ""), reason=data.get("reason", ""), wamid=data.get("wamid", ""),
            retries=int(data.get("retries") or 0), created=from_ms(data.get("created")),
            updated=from_ms(data.get("updated")), sent_at=from_ms(data.get("sent_at")),
            history=data.get("history", ""))


@dataclass(frozen=True)
class Submitted:
    batch: str
    ids: list[str]
    existing: bool  # True: the same key and request came before; these are its ids


def new_id() -> str:
    return "msg_" + uuid.uuid4().hex


class SendStore:
    def __init__(self, redis, clock: Clock = SYSTEM_CLOCK) -> None:
        self.redis = redis
        self.clock = clock
        self._submit = redis.register_script(_SUBMIT)
        self._claim = redis.register_script(_CLAIM)
        self._start = redis.register_script(_START)
        self._finish = redis.register_script(_FINISH)
        self._recover = redis.register_script(_RECOVER)
        self._move = redis.register_script(_MOVE)

    def now_ms(self) -> int:
        return to_ms(self.clock.now())

    def submit(self, client: str, key: str, fingerprint: str, sends: list[dict]) -> Submitted:
        """Store `sends` (hashes with id, state, due ms, …) under the client's key, atomically;
        or return what the key already holds. Raises IdempotencyConflict."""
        now = self.now_ms()
        records = [{**send, "client": client, "key": key, "created": now, "updated": now} for send in sends]
        batch = "b_" + uuid.uuid4().hex
        for record in records:
            record.setdefault("batch", batch)
        outcome, batch, ids = self._submit(
            keys=[_idem_key(client, key), DUE_KEY, *(send_key(record["id"]) for record in records)],
            args=[fingerprint, batch, json.dumps(records), int(IDEM_TTL.total_seconds()), now])
        ids = json.loads(ids) if ids != "{}" else []  # cjson encodes an empty list as {}
        if outcome == "conflict":
            raise IdempotencyConflict(key, batch, ids)
        return Submitted(batch, ids, outcome == "existing")

    def get(self, send_id: str) -> Send | None:
        data = self.redis.hgetall(send_key(send_id))
        return Send.from_hash(data) if data else None

    def many(self, ids: Iterable[str]) -> list[Send | None]:
        pipe = self.redis.pipeline(transaction=False)
        for send_id in ids:
            pipe.hgetall(send_key(send_id))
        return [Send.from_hash(data) if data else None for data in pipe.execute()]

    # --- the worker's side ------------------------------------------------------------------

    def claim(self, owner: str, limit: int, lease: dt.timedelta) -> list[str]:
        now = self.now_ms()
        ids = self.redis.zrangebyscore(DUE_KEY, "-inf", now, start=0, num=limit)
        if not ids:
            return []
        return self._claim(keys=[DUE_KEY, LEASES_KEY, *map(send_key, ids)],
                           args=[now, owner, now + int(lease.total_seconds() * 1000), *ids])

    def renew(self, owner: str, ids: Iterable[str], lease: dt.timedelta) -> None:
        until = self.now_ms() + int(lease.total_seconds() * 1000)
        ids = list(ids)
        owners = self.many_fields(ids, "owner")
        mine = {send_id: until for send_id, who in zip(ids, owners) if who == owner}
        if mine:
            self.redis.zadd(LEASES_KEY, mine, xx=True)

    def many_fields(self, ids: list[str], name: str) -> list[str | None]:
        pipe = self.redis.pipeline(transaction=False)
        for send_id in ids:
            pipe.hget(send_key(send_id), name)
        return pipe.execute()

    def start(self, send_id: str, owner: str) -> bool:
        """Mark the send "sending" just before its POST; False when it is no longer ours to send."""
        return bool(self._start(keys=[send_key(send_id)], args=[owner, self.now_ms()]))

    def finish(self, send_id: str, owner: str, *, state: str | None = None, reason: str = "",
               due: dt.datetime | None = None, **fields: Any) -> bool:
        """End the lease, with the send's new state (or none: let it go as it is)."""
        values: dict[str, Any] = {}
        if state is not None:
            values = {"state": state, "reason": reason, "updated": self.now_ms(), **fields}
            if due is not None:
                values["due"] = to_ms(due)
        ttl = int(RETENTION.total_seconds()) if state in FINAL else ""
        return bool(self._finish(keys=[send_key(send_id), LEASES_KEY, DUE_KEY],
                                 args=[owner, send_id, json.dumps(values),
                                       to_ms(due) if due is not None else "", ttl]))

    def recover(self) -> list[str]:
        """Give back expired leases (any process, any time); the ids that became unknown."""
        now = self.now_ms()
        ids = self.redis.zrangebyscore(LEASES_KEY, "-inf", now)
        if not ids:
            return []
        return self._recover(keys=[LEASES_KEY, DUE_KEY, *map(send_key, ids)],
                             args=[now, LOST_IN_FLIGHT, int(RETENTION.total_seconds()), *ids])

    def waiting(self, limit: int = 100) -> list[Send]:
        """Scheduled and deferred sends, soonest first (what an operator checks)."""
        return [s for s in self.many(self.redis.zrange(DUE_KEY, 0, limit - 1)) if s is not None]

    def next_due(self) -> dt.datetime | None:
        first = self.redis.zrange(DUE_KEY, 0, 0, withscores=True)
        return from_ms(int(first[0][1])) if first else None

    # --- a person's side --------------------------------------------------------------------

    def move(self, send_id: str, from_states: tuple[str, ...], to_state: str, reason: str = "",
             due: dt.datetime | None = None) -> bool:
        ttl = int(RETENTION.total_seconds()) if to_state in FINAL else ""
        return bool(self._move(keys=[send_key(send_id), DUE_KEY],
                               args=[send_id, json.dumps(list(from_states)), to_state, self.now_ms(),
                                     reason, ttl, to_ms(due) if due is not None else ""]))

    def set_fields(self, send_id: str, **fields: Any) -> None:
        self.redis.hset(send_key(send_id), mapping={k: str(v) for k, v in fields.items()})
