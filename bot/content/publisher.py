"""`python -m bot.content.publisher`: the publish worker. Training never runs in a web request.

One job at a time from `publish:queue` (bot/content/publish_store.py):
  publish:  validate → train → swap → first answer, with the regression check in its own
            process beside validate and train (bot/content/check_process.py; a refusal
            stops the publish before the swap)
  rollback: swap → restore data → first answer, to the model and data/ of an earlier record
Each stage's state and seconds go to the job's record as they happen, for the console.
Between jobs it answers the console's try-it questions with the draft model (try_server.py).

The swap is Rasa's `PUT /model` on every Rasa process (RASA_URLS, comma-separated; default
RASA_URL). Rasa builds the new agent, then replaces `app.ctx.agent` in one assignment; a message
being handled keeps the agent it started with, and our channel looks the agent up per turn
(connector/channel/input.py), so no message is dropped or half-answered. If one process
refuses the model, the ones already swapped are swapped back.

Every published model is kept as models/assistant-<id>.tar.gz, and every record's data/ (a git
commit, or its files in Redis: bot/content/history.py). A rollback makes the model the newest
file there, so a restarted Rasa (`--model models` loads the newest) runs it too, and writes the
record's data/ back, so the launcher's training at a restart and the FAQ editor agree with it.
Settings: PUBLISH_ROOT (the project, default this checkout), PUBLISH_MAX_DROP (0.02),
RASA_URLS / RASA_URL, RASA_TOKEN.
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Callable, Optional, Sequence

import httpx

from bot.content import history, regression, training
from bot.content.check_process import CheckProcess, CheckRun
from bot.content.catalog import ROOT
from bot.content.publish_store import (
    FAILED, PUBLISH, PUBLISHED, REFUSED, ROLLBACK, RUNNING, PublishStore,
)
from bot.content.try_server import TryServer
from bot.content.try_store import WAKE as TRY_WAKE, TryStore

log = logging.getLogger(__name__)
# The check before the training: a refused publish then costs seconds, not a training.
STAGES = {PUBLISH: ("validate", "regression check", "train", "swap", "first answer"),
          ROLLBACK: ("swap", "restore data", "first answer")}
# Rasa answers PUT /model only once the new agent is built (a few seconds on a busy machine).
SWAP_TIMEOUT = 120
INITIAL, INITIAL_USER = "initial", "(before the first publish)"


class Refused(Exception):
    """The publish was stopped on purpose (invalid data, a quality drop): not a failure."""


def rasa_urls(env: dict = os.environ) -> list[str]:
    urls = env.get("RASA_URLS") or env.get("RASA_URL") or "http://127.0.0.1:5005"
    return [u.strip().rstrip("/") for u in urls.split(",") if u.strip()]


class Rasa:
    """The Rasa processes a publish swaps, through their HTTP API."""

    def __init__(self, urls: Sequence[str], token: str) -> None:
        self.urls, self.token = list(urls), token

    def loaded(self, url: str) -> str:
        response = httpx.get(f"{url}/status", params={"token": self.token}, timeout=10)
        response.raise_for_status()
        return response.json().get("model_file") or ""

    def _put(self, url: str, model: Path) -> None:
        response = httpx.put(f"{url}/model", params={"token": self.token},
                             json={"model_file": str(model)}, timeout=SWAP_TIMEOUT)
        if response.status_code != 204:
            raise RuntimeError(f"{url} refused the model: HTTP {response.status_code} {response.text[:200]}")

    def swap(self, model: Path, previous: Optional[Path]) -> None:
        done = []
        for url in self.urls:
            try:
                self._put(url, model)
            except (httpx.HTTPError, RuntimeError) as error:
                for swapped in done if previous else ():
                    self._put(swapped, previous)
                raise RuntimeError(f"swap failed on {url}: {error}") from error
            done.append(url)

    def first_answer(self, text: str) -> dict:
        """The new model's parse of `text` on every process (they all run the same model)."""
        parsed = {}
        for url in self.urls:
            response = httpx.post(f"{url}/model/parse", params={"token": self.token},
                                  json={"text": text}, timeout=30)
            response.raise_for_status()
            parsed = response.json()
        return parsed


class Publisher:
    def __init__(self, store: PublishStore, rasa: Rasa, root: Path = ROOT,
                 max_drop: float = regression.DEFAULT_MAX_DROP) -> None:
        self.store, self.rasa, self.root, self.max_drop = store, rasa, Path(root), max_drop
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.models = self.root / "models"
        self.build = self.root / "var" / "publish" / "build"
        self.check_cache = self.root / "var" / "publish" / "check-cache"
        self.checker = CheckProcess()

    # -- the loop -------------------------------------------------------------------------------

    def run_forever(self, poll_seconds: int = 5) -> None:
        self.store.recover()
        self.store.heartbeat(self.owner)
        self.ensure_baseline()
        self.prepare()
        tries = TryServer(TryStore(self.store.redis), self.store, self.root, self.build, self.owner)
        while True:
            self.store.heartbeat(self.owner)
            # A try-it question wakes the wait up; a queued publish still goes first.
            job = self.store.next_job(poll_seconds, wake=(TRY_WAKE,))
            if job is not None:
                self.handle(job)
            else:
                tries.serve_one()

    def prepare(self) -> None:
        """Once per start, what every training in this process needs: Rasa's training modules
        (several seconds to import) and the sentence embeddings of the examples, which only
        an edited or new example changes. The first publish then costs what the next ones do."""
        import rasa.model_training  # noqa: F401

        from bot.content.heldout import project_examples
        from bot.nlu import embedding
        from bot.nlu.text import normalize

        embedding.embed([normalize(text) for text, _, _ in project_examples(self.root)])

    def ensure_baseline(self) -> None:
        """Before the first publish, what Rasa runs (the newest model in models/, which
        `--model models` loads) becomes the first history record: the first publish is then
        measured against the data it was trained from, and can be rolled back."""
        if self.store.live() is not None:
            return
        models = sorted(self.models.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
        if not models:
            return
        log.info("measuring the data behind %s: the first publish's baseline", models[-1].name)
        # Kept before measuring: a lead may save an edit meanwhile, and it is not live.
        data = history.kept(self.root)
        self._record({
            "id": "initial", "kind": INITIAL, "user": INITIAL_USER, "model": str(models[-1]),
            "commit": None, "diff": "", "files": [],
            "measurement": self.checker.measure(self.root, self.check_cache),
        }, data)

    def _record(self, record: dict, data: Optional[tuple] = None) -> None:
        """`record` becomes the newest history record and the live one, with its data/ as
        history.kept() gives it (data/ as it is now unless given)."""
        data_commit, files = data or history.kept(self.root)
        self.store.add_history({**record, "at": time.time(), "data_commit": data_commit}, files)

    def handle(self, job: dict) -> dict:
        if not self.store.lock(self.owner):
            # Another worker is mid-job: put this one back for later.
            self.store.requeue(job)
            time.sleep(1)
            return job
        job.update(state=RUNNING, stages=[{"name": n, "status": "waiting", "seconds": None}
                                          for n in STAGES[job["kind"]]])
        self.store.save(job)
        try:
            (self._publish if job["kind"] == PUBLISH else self._rollback)(job)
            job["state"] = PUBLISHED
        except Refused as refusal:
            job.update(state=REFUSED, reason=str(refusal))
        except Exception as error:  # the job must end, whatever broke, and say what
            log.error("publish %s failed:\n%s", job["id"], traceback.format_exc())
            job.update(state=FAILED, reason=f"{type(error).__name__}: {error}")
        for stage in job["stages"]:
            if stage["status"] == "running":
                stage["status"] = job["state"]
        job["stage"] = None
        job["finished"] = time.time()
        self.store.finish(job, self.owner)
        return job

    def _stage(self, job: dict, name: str, work: Callable[[], object]):
        stage = next(s for s in job["stages"] if s["name"] == name)
        stage["status"], job["stage"] = "running", name
        self.store.save(job)
        self.store.renew(self.owner)
        self.store.heartbeat(self.owner)
        started = time.perf_counter()
        result = work()
        stage.update(status="done", seconds=round(time.perf_counter() - started, 2))
        self.store.save(job)
        return result

    # -- publish --------------------------------------------------------------------------------

    def _publish(self, job: dict) -> None:
        from bot.content.validate import run_checks

        def validate():
            # `rasa data validate` is left to training, which fails on what it would report.
            problems = run_checks(self.root, with_rasa=False)
            if problems:
                raise Refused("the data has problems: " + "; ".join(str(p) for p in problems[:10]))

        live = self.store.live()
        # The check model trains in its own process beside validation and the training: on two
        # cores that is what keeps an edit within seconds of answering (bench/publish_bench.py).
        check = self.checker.start(self.root, self.check_cache)
        self._mark(job, "regression check", "running")
        try:
            self._stage(job, "validate", validate)
            measurement = self._judge(job, check, live) if check.finished() else None
            # Built beside models/, not in it: a refused or failed publish must not leave the
            # newest model there, which a restarted Rasa would load.
            built = self._stage(job, "train", lambda: training.train(root=self.root, output=self.build).model_path)
            measurement = measurement or self._judge(job, check, live)
        finally:
            if check.stop():
                self._mark(job, "regression check", "stopped")
        model = self.models / f"{training.MODEL_NAME}-{job['id']}.tar.gz"
        # copyfile, not copy2: a fresh mtime makes it the newest model, which a restart loads.
        shutil.copyfile(built, model)
        job["model"] = str(model)
        try:
            self._stage(job, "swap", lambda: self.rasa.swap(model, self._model_of(live)))
        except Exception:
            model.unlink(missing_ok=True)
            raise
        self._stage(job, "first answer", lambda: self._first_answer(job))
        change = history.record_change(self.root, self.store, job["user"], job["id"])
        self._record({
            "id": job["id"], "kind": PUBLISH, "user": job["user"], "model": str(model),
            "commit": change.commit, "diff": change.diff, "files": change.files,
            "measurement": measurement,
        })

    def _mark(self, job: dict, name: str, status: str, seconds: Optional[float] = None) -> None:
        next(s for s in job["stages"] if s["name"] == name).update(status=status, seconds=seconds)
        self.store.save(job)

    def _judge(self, job: dict, check: CheckRun, live: Optional[dict]) -> dict:
        measurement = check.result()
        verdict = regression.compare((live or {}).get("measurement"), measurement, self.max_drop)
        job["verdict"] = verdict.as_dict()
        job["measurement"] = {k: v for k, v in measurement.items() if k != "faqs"}
        if not verdict.ok:
            self._mark(job, "regression check", REFUSED, check.seconds)
            worse = ", ".join(f"{w['faq']} ({w['before']:.0%} → {w['after']:.0%})" for w in verdict.worse[:5])
            raise Refused("; ".join(verdict.reasons) + (f". Worse: {worse}" if worse else ""))
        self._mark(job, "regression check", "done", check.seconds)
        return measurement

    def _first_answer(self, job: dict) -> None:
        text = history.sample_question(self.root)
        parsed = self.rasa.first_answer(text)
        job["first_answer"] = {"text": text, "intent": (parsed.get("intent") or {}).get("name")}

    def _model_of(self, record: Optional[dict]) -> Optional[Path]:
        if record and Path(record["model"]).is_file():
            return Path(record["model"])
        return None

    # -- rollback -------------------------------------------------------------------------------

    def _rollback(self, job: dict) -> None:
        target = self.store.record(job["target"] or "")
        model = self._model_of(target)
        if model is None:
            raise Refused(f"no kept model for publish {job['target']}")
        files = history.files_of(self.root, self.store, target)
        if files is None:
            raise Refused(f"the data of publish {job['target']} was not kept")
        job["model"] = str(model)
        live = self.store.live()
        self._stage(job, "swap", lambda: self.rasa.swap(model, self._model_of(live)))
        os.utime(model)  # the newest model again: a restarted Rasa loads it
        change = self._stage(job, "restore data", lambda: history.restore(self.root, files, job["user"], target["id"]))
        self._stage(job, "first answer", lambda: self._first_answer(job))
        self._record({
            "id": job["id"], "kind": ROLLBACK, "user": job["user"], "model": str(model),
            "target": target["id"], "commit": change.commit, "diff": change.diff,
            "files": change.files, "measurement": target.get("measurement"),
        })


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run the publish worker.")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("PUBLISH_ROOT") or ROOT))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s publisher %(levelname)s %(message)s")
    training._quiet_rasa()
    from core.redis_conn import get_redis

    publisher = Publisher(
        PublishStore(get_redis()), Rasa(rasa_urls(), os.environ.get("RASA_TOKEN", "")),
        root=args.root.resolve(),
        max_drop=float(os.environ.get("PUBLISH_MAX_DROP") or regression.DEFAULT_MAX_DROP),
    )
    os.environ.setdefault("RASA_CACHE_DIRECTORY", str(publisher.root / ".rasa" / "cache"))
    log.info("waiting for publish jobs (project %s, Rasa %s)", publisher.root, ", ".join(publisher.rasa.urls))
    publisher.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
