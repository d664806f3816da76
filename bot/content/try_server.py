"""Try it: the publish worker answers a lead's question with the draft model, between publish jobs.

The draft model is the one a publish would train now: data/ as saved, trained by the same
`training.train(root, output=var/publish/build)` as the publish's train stage, so it is built
only when its fingerprint is stale, and a publish that follows finds it up to date and skips the
training. A build takes the publish lock, so it never overwrites a build another worker's
publish is making. The model is loaded once per file (Rasa's `Agent.load`), and each question
goes through `Agent.parse_message`: the same graph run as Rasa's `/model/parse`, fallback
threshold and language detection included (Rasa 3 has no separate NLU interpreter any more).

The worker loop (bot/content/publisher.py) calls `serve_one()` whenever its wait for a publish
job ends with a wake-up instead (bot/content/try_store.py), so a queued publish always goes first
and a question asked during a publish waits for it.
"""
from __future__ import annotations

import asyncio
import logging
import time
import traceback
from pathlib import Path
from typing import Optional

from bot.content import history, training
from bot.content.publish_store import PublishStore
from bot.content.try_store import BUILDING, DONE, FAILED, TryStore

log = logging.getLogger(__name__)

READY = "ready"
FALLBACK_INTENT = "nlu_fallback"
# The retrieval intent whose labels are the FAQ keys (the response selector's ranking).
FAQ_INTENT = "faq"
RUNNERS_UP = 4


class TryServer:
    def __init__(self, tries: TryStore, publish: PublishStore, root: Path, build: Path, owner: str) -> None:
        self.tries, self.publish, self.root, self.build, self.owner = tries, publish, root, build, owner
        self._agent = None
        self._loaded: Optional[tuple[str, int]] = None

    @property
    def model(self) -> Path:
        return training.model_files(self.build)[0]

    def serve_one(self) -> bool:
        """Answers the oldest waiting question; False when none was waiting."""
        request = self.tries.next_request()
        if request is None:
            return False
        try:
            if not training.up_to_date(self.root, self.build):
                if not self.publish.lock(self.owner):
                    # Another worker is publishing into the build folder: ask again after it.
                    self.tries.put_back(request)
                    self.tries.wake()
                    time.sleep(1)
                    return True
                try:
                    self._build(request)
                finally:
                    self.publish.unlock(self.owner)
            request.update(state=DONE, result=self.answer(request["question"]))
        except Exception as error:  # the lead must see why, and the worker must go on
            log.error("try-it request %s failed:\n%s", request["id"], traceback.format_exc())
            request.update(state=FAILED, error=f"{type(error).__name__}: {error}")
        self.tries.save(request)
        if self.tries.pending():
            self.tries.wake()
        return True

    def _build(self, request: dict) -> None:
        started = time.time()
        request["state"] = BUILDING
        self.tries.save(request)
        self.tries.set_draft({"state": BUILDING, "started": started, "seconds": None, "model": None})
        self.publish.heartbeat(self.owner)
        try:
            outcome = training.train(root=self.root, output=self.build)
        except BaseException:
            self.tries.set_draft({"state": FAILED, "started": started, "seconds": None, "model": None})
            raise
        request["built_seconds"] = round(outcome.seconds, 2)
        self.tries.set_draft({"state": READY, "started": started, "seconds": request["built_seconds"],
                              "model": str(outcome.model_path)})
        self.publish.heartbeat(self.owner)

    def _load(self):
        stat = self.model.stat()
        if self._loaded != (str(self.model), stat.st_mtime_ns):
            from rasa.core.agent import Agent

            self._agent = Agent.load(str(self.model))
            self._loaded = (str(self.model), stat.st_mtime_ns)
        return self._agent

    def answer(self, question: str) -> dict:
        """The draft model's parse, as the page shows it: every label ranked (FAQ keys as
        `faq/<key>`), the intent Rasa acts on (`nlu_fallback` below the threshold), the detected
        language, the winning FAQ's answer variations from the model's domain, and which data
        files differ from what was last published."""
        parsed = asyncio.run(self._load().parse_message(question))
        labels = [(r["name"], r["confidence"]) for r in parsed.get("intent_ranking") or []
                  if r["name"] not in (FAQ_INTENT, FALLBACK_INTENT)]
        selected = (parsed.get("response_selector") or {}).get(FAQ_INTENT) or {}
        labels += [(r["intent_response_key"], r["confidence"]) for r in selected.get("ranking") or []]
        labels.sort(key=lambda label: label[1], reverse=True)
        intent = parsed.get("intent") or {}
        language = next((e["value"] for e in parsed.get("entities") or [] if e.get("entity") == "language"), None)
        winner = labels[0][0] if labels else None
        response = selected.get("response") or {}
        live = self.publish.live()
        return {
            "intent": intent.get("name"),
            "ranking": [{"label": name, "confidence": round(c, 4)} for name, c in labels[:RUNNERS_UP + 1]],
            "language": language,
            "responses": response.get("responses") or [] if winner == response.get("intent_response_key") else [],
            "model": str(self.model),
            "unpublished": history.unpublished(self.root, self.publish),
            "live": {"id": live["id"], "kind": live["kind"]} if live else None,
        }
