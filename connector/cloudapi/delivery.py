"""What happened to each outbound message, and the failures a person has to see.

`wa:out:{wamid}` (hash, 30 days): conversation, body, agent, and the latest status. Meta's status
webhooks arrive out of order and are redelivered, so a status only replaces a *later* one in the
sent → delivered → read order (a late "sent" never undoes "read"), and a failed status is put on
the failure stream once, however often Meta repeats it.

`wa:failures` (stream, trimmed to ~10 000): permanent send errors, refusals (window closed, limits)
and unknown outcomes, with the message body, for the agent console and operators.

`wa:msg:{conv}:{event key}` (hash, 30 days): which sends one message of the conversation's history
became, so the console can put their state on that message's bubble. The event key is the
Rasa bot event's timestamp (`event_key`): Rasa gives every bot event one, hands the same event
to the output channel that sends it and saves it in the tracker the console reads, for the
bot's own replies and for the agents' alike. Fields: one per outbound wamid, and `failure`
(JSON code, title, detail, kind) when a part was not sent. A status change of a linked message
is published on core.channels.DELIVERY_STATUSES (`{"conv": …}`), so open console pages refresh.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Mapping

from core.channels import DELIVERY_STATUSES
from core.clock import SYSTEM_CLOCK, Clock
from connector.cloudapi.errors import advice_for

OUT_TTL_SECONDS = 30 * 24 * 3600
FAILURES_STREAM = "wa:failures"
FAILURES_MAXLEN = 10_000
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4, "failed": 5}

# Returns {changed, became_failed}. Unknown statuses are timestamped but never become `status`.
# A change of a message we sent is published (ARGV[7]) here, in the same round trip.
_RECORD_STATUS = """
local key = KEYS[1]
local new = ARGV[1]
local new_rank = tonumber(ARGV[2])
local old = redis.call('HGET', key, 'status')
local old_rank = -1
if old then old_rank = tonumber(redis.call('HGET', key, 'rank') or '-1') end
redis.call('HSET', key, new .. '_at', ARGV[3])
if ARGV[4] ~= '' and not redis.call('HGET', key, 'recipient') then
  redis.call('HSET', key, 'recipient', ARGV[4])
end
local changed = 0
local became_failed = 0
if new_rank >= 0 and new_rank > old_rank then
  redis.call('HSET', key, 'status', new, 'rank', new_rank)
  changed = 1
  if new == 'failed' then
    redis.call('HSET', key, 'error', ARGV[5])
    became_failed = 1
  end
end
redis.call('EXPIRE', key, ARGV[6])
local conv = redis.call('HGET', key, 'conv')
if changed == 1 and conv then
  redis.call('PUBLISH', ARGV[7], cjson.encode({conv = conv}))
end
return {changed, became_failed}
"""


def _out_key(wamid: str) -> str:
    return f"wa:out:{wamid}"


def _message_key(conversation_id: str, key: str) -> str:
    return f"wa:msg:{conversation_id}:{key}"


def event_key(timestamp: Any) -> str | None:
    """The link key of a Rasa bot event (its timestamp, as Python writes the float), or None."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        return None
    return repr(float(timestamp))


@dataclass(frozen=True)
class MessageState:
    """What happened to one message of the history: `status` is the least advanced of its sends
    (accepted | sent | delivered | read | played), or "failed" when one of them failed; then
    `failure` says why (code, title, detail) and `advice` what a person can do."""

    status: str
    failure: dict[str, Any] | None = None

    @property
    def advice(self) -> str:
        return advice_for(self.failure.get("code")) if self.failure else ""


def _field(obj: Any, *names: str) -> Any:
    """Read a status update given as an object (inbound's StatusUpdate) or as a plain mapping."""
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _epoch(value: Any) -> int:
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _first_error(errors: Any) -> dict[str, Any]:
    if not errors:
        return {}
    error = errors[0]
    if not isinstance(error, Mapping):
        error = {k: getattr(error, k, None) for k in ("code", "title", "message", "details")}
    data = error.get("error_data")
    detail = data.get("details") if isinstance(data, Mapping) else error.get("details")
    return {"code": error.get("code"), "title": error.get("title") or error.get("message") or "",
            "detail": detail or ""}


class DeliveryLog:
    def __init__(self, redis, clock: Clock = SYSTEM_CLOCK) -> None:
        self.redis = redis
        self.clock = clock
        self._record_status = redis.register_script(_RECORD_STATUS)

    def record_sent(self, wamid: str, conversation_id: str, body: Mapping[str, Any],
                    agent: str | None = None) -> None:
        key = _out_key(wamid)
        fields = {"conv": conversation_id, "body": json.dumps(body, ensure_ascii=False),
                  "recipient": str(body.get("to", "")), "agent": agent or "",
                  "sent_by_us_at": int(self.clock.now().timestamp())}
        pipe = self.redis.pipeline()
        pipe.hset(key, mapping=fields)
        # A fast "delivered" webhook can beat this write; only set the status if none is there.
        pipe.hsetnx(key, "status", "accepted")
        pipe.hsetnx(key, "rank", STATUS_RANK["accepted"])
        pipe.expire(key, OUT_TTL_SECONDS)
        pipe.execute()

    def record_status(self, update: Any) -> bool:
        """Apply one status webhook (fields: wamid|id, status, timestamp, recipient, errors).

        Returns whether the message's status changed. A first `failed` goes to the failure
        stream (what a failure means for the 24 h window is connector.webhook.intake's business).
        One round trip unless it failed: status webhooks are most of what the ingress receives.
        """
        wamid = _field(update, "wamid", "id", "message_id")
        status = str(_field(update, "status") or "")
        if not wamid or not status:
            raise ValueError(f"status update needs a wamid and a status: {update!r}")
        error = _first_error(_field(update, "errors"))
        changed, became_failed = self._record_status(
            keys=[_out_key(wamid)],
            args=[status, STATUS_RANK.get(status, -1), _epoch(_field(update, "timestamp")),
                  str(_field(update, "recipient", "recipient_id") or ""),
                  json.dumps(error, ensure_ascii=False), OUT_TTL_SECONDS, DELIVERY_STATUSES],
        )
        if became_failed:
            record = self.get(wamid) or {}
            conv = record.get("conv") or record.get("recipient") or ""
            self.record_failure(conv, record.get("body") or {}, error.get("code"),
                                error.get("title", ""), error.get("detail", ""),
                                kind="failed_status", agent=record.get("agent"), wamid=wamid)
        return bool(changed)

    def get(self, wamid: str) -> dict[str, Any] | None:
        data = self.redis.hgetall(_out_key(wamid))
        if not data:
            return None
        for name in ("body", "error"):
            if data.get(name):
                data[name] = json.loads(data[name])
        data.pop("rank", None)
        return data

    def link(self, conversation_id: str, key: str, wamids: list[str],
             failure: Mapping[str, Any] | None = None) -> None:
        """Message `key` of the conversation went out as `wamids` (added to any linked before:
        a message may be sent in parts), and `failure` when a part was not sent."""
        fields: dict[str, Any] = {wamid: 1 for wamid in wamids}
        if failure:
            fields["failure"] = json.dumps(dict(failure), ensure_ascii=False)
        if not fields:
            return
        name = _message_key(conversation_id, key)
        pipe = self.redis.pipeline()
        pipe.hset(name, mapping=fields)
        pipe.expire(name, OUT_TTL_SECONDS)
        pipe.execute()

    def states(self, conversation_id: str, keys: list[str]) -> dict[str, MessageState]:
        """The state of each linked message among `keys` (unlinked ones are left out): two
        round trips, however long the history."""
        pipe = self.redis.pipeline()
        for key in keys:
            pipe.hgetall(_message_key(conversation_id, key))
        links = dict(zip(keys, pipe.execute()))
        wamids = sorted({w for fields in links.values() for w in fields if w != "failure"})
        pipe = self.redis.pipeline()
        for wamid in wamids:
            pipe.hmget(_out_key(wamid), "status", "error")
        outs = dict(zip(wamids, pipe.execute()))
        found = {}
        for key, fields in links.items():
            if fields:
                found[key] = _state(fields, outs)
        return found

    def record_failure(self, conversation_id: str, body: Mapping[str, Any] | None,
                       code: Any, title: str, detail: str = "", *, kind: str = "permanent",
                       agent: str | None = None, wamid: str | None = None) -> str:
        """`kind`: permanent | retries_exhausted | refused (never sent, e.g. window closed,
        limits, no consent, a deferral nobody keeps) | unknown_outcome (may have been delivered) | failed_status (Meta's
        webhook)."""
        entry = {
            "conv": conversation_id or "", "code": "" if code is None else str(code),
            "title": title or "", "detail": detail or "", "kind": kind, "agent": agent or "",
            "wamid": wamid or "", "body": json.dumps(body or {}, ensure_ascii=False),
            "at": self.clock.now().isoformat(),
        }
        return self.redis.xadd(FAILURES_STREAM, entry, maxlen=FAILURES_MAXLEN, approximate=True)

    def failures(self, conversation_id: str | None = None, count: int = 50) -> list[dict[str, Any]]:
        """Newest first; filtered to one conversation when given (scans at most the stream)."""
        found: list[dict[str, Any]] = []
        upper = "+"
        while len(found) < count:
            batch = self.redis.xrevrange(FAILURES_STREAM, max=upper, count=max(count, 200))
            if not batch:
                break
            for entry_id, fields in batch:
                if conversation_id is None or fields.get("conv") == conversation_id:
                    found.append({"id": entry_id, **fields, "body": json.loads(fields.get("body") or "{}")})
                    if len(found) == count:
                        break
            upper = "(" + batch[-1][0]
        return found


def _state(fields: Mapping[str, str], outs: Mapping[str, list]) -> MessageState:
    if fields.get("failure"):
        return MessageState("failed", json.loads(fields["failure"]))
    statuses = []
    for wamid in fields:
        status, error = outs.get(wamid) or (None, None)
        if status == "failed":
            return MessageState("failed", json.loads(error) if error else {"code": "", "title": ""})
        statuses.append(status or "accepted")  # its record expired: Meta had accepted it
    return MessageState(min(statuses, key=lambda s: STATUS_RANK.get(s, 0)))
