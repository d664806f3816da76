"""Customer satisfaction after a resolve: the rating question, the answers, the results.

When an agent resolves a chat inside the 24 h window, the console asks (`Csat.ask`) and sends
the question, the domain's `utter_csat_ask` in the customer's language (`question`): three
reply buttons whose payloads are `/csat_good`, `/csat_okay`, `/csat_bad`, tagged like every
reply id (connector/cloudapi/reply_ids.py). The connector (connector/channel/turns.py) takes a
tap on one of them before Rasa, whoever has the chat, so no NLU ever reads "👍 Bien" as a
question: `Csat.answer` records it against the open question, and the customer gets
`utter_csat_thanks`, or `utter_csat_closed` when there is no open question (already answered,
asked longer than ANSWER_DAYS ago, or replaced by a later resolve's). The texts are domain
responses so leads edit them with the bot's other texts.

Keys (this module only), all under the hash tag {csat}: an answer takes the open question and
records itself in one script, which on Redis Cluster must touch one slot (asking, a MULTI of
the open question and the asked set, likewise):
- `csat:{csat}:open:<conv>`: JSON {id, agent, at} of the question asked after the conversation's latest
  resolve, until it is answered (TTL ANSWER_DAYS). A later resolve's question replaces it.
- `csat:{csat}:asked`: sorted set, score = time asked (epoch s), member JSON {id, agent}.
- `csat:{csat}:answers`: sorted set, score = time asked, member JSON {id, agent, score, answered_at}.
  One answer per question: the answer takes the open question away in the same script.
Both sets keep KEEP_DAYS; the health page groups them per agent and per day (the day asked).
"""
from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from bot.hours.replies import domain_responses, variation
from core.clock import SYSTEM_CLOCK, Clock

SCORES = ("good", "okay", "bad")
PAYLOAD_PREFIX = "/csat_"
ASK, THANKS, CLOSED = "utter_csat_ask", "utter_csat_thanks", "utter_csat_closed"
# Sent by the console and the connector, not by a rule: bot/content/rasa_check.py counts them used.
RESPONSES = (ASK, THANKS, CLOSED)
# The intent a tap is logged with in Rasa's tracker (not in the domain: the bot never predicts from it).
ANSWER_INTENT = "csat_answer"
ANSWER_DAYS = 7
KEEP_DAYS = 400
ASKED, ANSWERS = "csat:{csat}:asked", "csat:{csat}:answers"

# Returns the open question (JSON) it answered, or false when there was none (or it is too old).
_ANSWER = """
local open = redis.call('GET', KEYS[1])
if not open then return false end
redis.call('DEL', KEYS[1])
local record = cjson.decode(open)
if tonumber(record.at) < tonumber(ARGV[4]) then return false end  -- the TTL, on our clock
local answer = cjson.encode({id = record.id, agent = record.agent, score = ARGV[1], answered_at = tonumber(ARGV[2])})
redis.call('ZADD', KEYS[2], record.at, answer)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
return open
"""


def _open_key(conv: str) -> str:
    return f"csat:{{csat}}:open:{conv}"


def payload(score: str) -> str:
    return PAYLOAD_PREFIX + score


def score_of(text: str | None) -> str | None:
    """The score a reply payload (already untagged) gives, or None when it is not a CSAT tap."""
    if not text or not text.startswith(PAYLOAD_PREFIX):
        return None
    score = text[len(PAYLOAD_PREFIX):]
    return score if score in SCORES else None


def question(language: str, responses: dict[str, Any] | None = None) -> dict:
    """The Rasa bot event that asks, in `language`: text and reply buttons of utter_csat_ask."""
    chosen = variation(ASK, language, domain_responses() if responses is None else responses)
    buttons = [{"title": str(b["title"]), "payload": str(b["payload"])} for b in chosen.get("buttons") or []]
    return {"event": "bot", "text": str(chosen.get("text") or ""), "data": {"buttons": buttons},
            "metadata": {"csat": True, "language": language}}


def reply(recorded: bool, language: str | None, responses: dict[str, Any]) -> str:
    """What the customer is told after a tap."""
    return str(variation(THANKS if recorded else CLOSED, language or "es", responses).get("text") or "")


@dataclass
class AgentDay:
    day: date
    agent: str
    asked: int = 0
    scores: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SCORES, 0))

    @property
    def answered(self) -> int:
        return sum(self.scores.values())

    @property
    def good_share(self) -> float | None:
        return self.scores["good"] / self.answered if self.answered else None


class Csat:
    def __init__(self, redis, clock: Clock = SYSTEM_CLOCK) -> None:
        self.redis = redis
        self.clock = clock
        self._answer = redis.register_script(_ANSWER)

    def ask(self, conv: str, agent: str) -> str:
        """Open the question of this resolve (before it is sent, so a quick tap finds it)."""
        now = int(self.clock.now().timestamp())
        question_id = uuid.uuid4().hex
        pipe = self.redis.pipeline()
        pipe.set(_open_key(conv), json.dumps({"id": question_id, "agent": agent, "at": now}),
                 ex=ANSWER_DAYS * 86400)
        pipe.zadd(ASKED, {json.dumps({"id": question_id, "agent": agent}): now})
        pipe.zremrangebyscore(ASKED, "-inf", now - KEEP_DAYS * 86400)
        pipe.execute()
        return question_id

    def withdraw(self, conv: str, question_id: str) -> None:
        """The question could not be sent: it is neither open nor counted as asked."""
        opened = self.redis.get(_open_key(conv))
        if opened and json.loads(opened)["id"] == question_id:
            record = json.loads(opened)
            pipe = self.redis.pipeline()
            pipe.delete(_open_key(conv))
            pipe.zrem(ASKED, json.dumps({"id": question_id, "agent": record["agent"]}))
            pipe.execute()

    def answer(self, conv: str, score: str) -> bool:
        """Record a tap; False when no question is open (answered already, or too late)."""
        if score not in SCORES:
            raise ValueError(f"unknown CSAT score {score!r}")
        now = int(self.clock.now().timestamp())
        return bool(self._answer(keys=[_open_key(conv), ANSWERS],
                                 args=[score, now, now - KEEP_DAYS * 86400, now - ANSWER_DAYS * 86400]))

    def results(self, first: date, last: date, zone: tzinfo) -> list[AgentDay]:
        """Per day asked (in `zone`) and agent, both included, newest day first."""
        start = datetime.combine(first, time.min, zone).timestamp()
        end = datetime.combine(last + timedelta(days=1), time.min, zone).timestamp()
        rows: dict[tuple[date, str], AgentDay] = {}

        def row(at: float, agent: str) -> AgentDay:
            day = datetime.fromtimestamp(at, zone).date()
            return rows.setdefault((day, agent), AgentDay(day, agent))

        for member, at in self.redis.zrangebyscore(ASKED, start, f"({end}", withscores=True):
            row(at, json.loads(member)["agent"]).asked += 1
        for member, at in self.redis.zrangebyscore(ANSWERS, start, f"({end}", withscores=True):
            answer = json.loads(member)
            row(at, answer["agent"]).scores[answer["score"]] += 1
        return sorted(rows.values(), key=lambda r: (-r.day.toordinal(), r.agent))


def totals(rows: list[AgentDay]) -> dict[str, AgentDay]:
    """The same figures per agent over the whole range."""
    found: dict[str, AgentDay] = defaultdict(lambda: AgentDay(date.min, ""))
    for r in rows:
        total = found[r.agent]
        total.agent, total.asked = r.agent, total.asked + r.asked
        for score, n in r.scores.items():
            total.scores[score] += n
    return dict(sorted(found.items()))
