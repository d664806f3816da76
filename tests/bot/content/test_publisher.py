"""Publish for real: the worker process on a copy of the project (its own git repository), the
running stack's Rasa hot-swapped while customers write, a rollback of model and data/, a refused
publish. The same from the console in a browser: tests/test_lead_workflow_end_to_end.py.

Real trainings in this module: the accepted publish's model (built as the draft a try-it
question asks for first, which the publish then reuses) and, beside it in the check
process, the NLU-only check models (the baseline and the two publishes; the refused one may
train its model too, the check runs beside the training).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest


from bot.content import training
from bot.content.catalog import load_catalog
from bot.content.publish_store import FINISHED, PUBLISHED, REFUSED, ROLLBACK, PublishStore
from bot.content.try_store import DONE, FINISHED as TRY_FINISHED, TryStore
from tests.stack import PY, ROOT
from tests.test_end_to_end import Customer, text_of

pytestmark = pytest.mark.model

NEW_EXAMPLE = "y el envio a tijuana cuanto me sale"
# Out-of-scope questions, reworded just enough to pass the near-duplicate check, taught as an
# FAQ: the check model then answers the held-out out-of-scope examples with it.
OOS_AS_FAQ = [
    "oye como va a estar el clima mañana en la ciudad",
    "oye cuentame un chiste bueno porfa",
    "oye quien crees que va a ganar las elecciones",
    "y que opinas tu del presidente actual",
    "oye venden celulares o telefonos",
    "me ayudas porfa con la tarea de matematicas",
    "oye y cual es la capital de francia",
    "recomiendame porfa una pelicula buena",
    "oye como se hace una pizza casera",
    "cuanto esta costando el dolar hoy dia",
    "oye va a llover hoy en la tarde?",
    "cuanto cuesta un vuelo de avion a cancun",
]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout


def _add_examples(project: Path, faq: str, texts: list[str]) -> None:
    path = project / "data" / "faq" / f"{faq}.yml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == "examples: |") + 1
    lines[at:at] = [f"    - {text}\n" for text in texts]
    path.write_text("".join(lines), encoding="utf-8")


def copy_with_model(root: Path, trained_model: Path, model_dir: str = "models") -> Path:
    """The project's inputs copied into `root`, with the session's model in `model_dir` stamped
    with this copy's fingerprint (it was trained from the same inputs): nothing to train there
    until the data changes."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(ROOT / "bot" / "nlu", root / "bot" / "nlu")
    (root / model_dir).mkdir(parents=True)
    shutil.copyfile(trained_model, root / model_dir / f"{training.MODEL_NAME}.tar.gz")
    (root / model_dir / f"{training.MODEL_NAME}.fingerprint.json").write_text(
        json.dumps(training.fingerprint(root)))
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory, trained_model):
    """A copy of the project in its own git repository, with the stack's model as the live one."""
    root = copy_with_model(tmp_path_factory.mktemp("publish-project"), trained_model)
    _git(root, "init", "-q")
    _git(root, "add", "data")
    _git(root, "-c", "user.name=dev", "-c", "user.email=dev@example.invalid", "commit", "-q", "-m", "data")
    return root


@pytest.fixture(scope="module")
def publisher(stack, project):
    """The worker process, as the launcher runs it, against the session stack's Rasa; Rasa gets
    the session's model back afterwards, so later tests see what they expect."""
    from core.redis_conn import get_redis

    client = get_redis(stack.redis_url)
    # The Redis is the session's: no job or record from another test may be waiting in it.
    for key in client.scan_iter("publish:*"):
        client.delete(key)
    log = open(stack.log_dir / "publisher.log", "wb")
    env = {**stack.env, "PUBLISH_ROOT": str(project), "RASA_URLS": stack.rasa_url,
           "RASA_CACHE_DIRECTORY": str(project / ".rasa" / "cache")}
    proc = subprocess.Popen([PY, "-m", "bot.content.publisher"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    stack.procs["publisher"] = proc
    stack._wait_worker(180)
    # Ready once the worker has measured what is live (its first job, before any publish).
    deadline = time.monotonic() + 300
    while PublishStore(client).live() is None:
        assert proc.poll() is None and time.monotonic() < deadline, "the worker recorded no baseline"
        time.sleep(0.5)
    yield proc
    proc.terminate()
    proc.wait(10)
    del stack.procs["publisher"]
    httpx.put(f"{stack.rasa_url}/model", params={"token": stack.env["RASA_TOKEN"]},
              json={"model_file": str(stack.model)}, timeout=120)


def _finished(read, states, what: str, timeout: float = 400) -> dict:
    """The record `read()` returns once its state is one of `states`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = read()
        if record["state"] in states:
            return record
        time.sleep(0.3)
    raise AssertionError(f"{what} did not finish: {read()}")


def _wait_for(store: PublishStore, job_id: str) -> dict:
    return _finished(lambda: store.job(job_id), FINISHED, f"job {job_id}")


def _wait_for_answer(tries: TryStore, request_id: str) -> dict:
    return _finished(lambda: tries.request(request_id), TRY_FINISHED, f"try-it request {request_id}")


def _loaded(stack) -> str:
    return httpx.get(f"{stack.rasa_url}/status", params={"token": stack.env["RASA_TOKEN"]}).json()["model_file"]


def test_publish_hot_swaps_under_traffic_then_rollback_restores_model_and_data(stack, project, publisher):
    from core.redis_conn import get_redis

    store = PublishStore(get_redis(stack.redis_url))
    answer = load_catalog(project / "data" / "faq").get("shipping_cost").answer("es")
    _add_examples(project, "shipping_cost", [NEW_EXAMPLE])

    # Try it first: the edit made the draft stale, so the worker builds it (the one training of
    # this publish) and answers with it; the publish then finds it up to date.
    tries = TryStore(store.redis)
    tried = _wait_for_answer(tries, tries.ask(NEW_EXAMPLE, "lucia")["id"])
    assert tried["state"] == DONE and tried["built_seconds"] > 0, tried
    assert tried["result"]["ranking"][0]["label"] == "faq/shipping_cost"
    assert tried["result"]["unpublished"] == ["data/faq/shipping_cost.yml"]
    draft = project / "var" / "publish" / "build" / f"{training.MODEL_NAME}.tar.gz"
    built = draft.stat().st_mtime_ns

    job, queued = store.enqueue("lucia")
    assert queued
    assert store.enqueue("lucia")[0]["id"] == job["id"], "a second publish waits for the first"

    # Customers keep writing through the emulator and the signed webhook for the whole
    # publish, swap included; each is a new customer, so WhatsApp's pair rate never paces.
    sent: list[tuple[Customer, str]] = []
    stop = threading.Event()

    def traffic():
        n = 0
        # From the training on, so the messages surround the swap, however long the check took.
        while not stop.is_set() and (store.job(job["id"]) or {}).get("stage") in ("validate", "regression check"):
            time.sleep(0.2)
        while not stop.is_set() and n < 400:
            customer = Customer(stack, f"52155{n:08d}")
            stage = (store.job(job["id"]) or {}).get("stage") or "?"
            customer.says("cuanto cuesta el envio??")
            sent.append((customer, stage))
            n += 1
            time.sleep(0.4)

    writer = threading.Thread(target=traffic)
    writer.start()
    try:
        done = _wait_for(store, job["id"])
    finally:
        stop.set()
        writer.join()
    assert done["state"] == PUBLISHED, done
    assert [s["name"] for s in done["stages"]] == ["validate", "regression check", "train", "swap", "first answer"]
    assert all(s["status"] == "done" and s["seconds"] is not None for s in done["stages"])
    assert "swap" in {stage for _, stage in sent}, "no customer wrote during the swap"
    for customer, _ in sent:  # every message answered, with the answer, none lost
        reply, _follow_up = customer.wait_for_replies(2)
        assert text_of(reply) == answer

    assert _loaded(stack) == Path(done["model"]).name
    assert draft.stat().st_mtime_ns == built, "the publish trained nothing: it published the draft"
    record = store.history()[0]
    assert (record["id"], record["user"], record["kind"]) == (done["id"], "lucia", "publish")
    assert "+    - " + NEW_EXAMPLE in record["diff"]
    assert record["files"] == ["data/faq/shipping_cost.yml"]
    assert _git(project, "log", "-1", "--format=%an %H %s").split() == [
        "lucia", record["commit"], "Publish", done["id"], "by", "lucia"]
    assert record["measurement"]["in_scope_accuracy"] > 0.5

    initial = store.history()[-1]
    back = _wait_for(store, store.enqueue("lucia", ROLLBACK, initial["id"])[0]["id"])
    assert back["state"] == PUBLISHED, back
    assert _loaded(stack) == Path(initial["model"]).name
    assert store.live()["model"] == initial["model"]
    newest = max((project / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    assert newest == Path(initial["model"]), "a restarted Rasa must load the rolled-back model"
    assert store.history()[0]["kind"] == ROLLBACK
    # data/ is the rolled-back-to publish's again: a restart (the launcher retrains from data/)
    # keeps the rollback, and the FAQ editor shows what customers get.
    assert NEW_EXAMPLE not in (project / "data" / "faq" / "shipping_cost.yml").read_text(encoding="utf-8")
    stamp = project / "models" / f"{training.MODEL_NAME}.fingerprint.json"
    assert training.fingerprint(project) == json.loads(stamp.read_text()), "data/ is not what the initial model was trained from"
    rolled = store.history()[0]
    assert _git(project, "log", "-1", "--format=%an %H %s").split() == [
        "lucia", rolled["commit"], "Rollback", "to", "initial", "by", "lucia"]
    assert "-    - " + NEW_EXAMPLE in rolled["diff"] and rolled["files"] == ["data/faq/shipping_cost.yml"]


def test_a_publish_that_loses_out_of_scope_rejection_is_refused(stack, project, publisher):
    from core.redis_conn import get_redis

    store = PublishStore(get_redis(stack.redis_url))
    live_before = _loaded(stack)
    history_before = store.history()
    models_before = {p.name: p.stat().st_mtime for p in (project / "models").glob("*.tar.gz")}
    _add_examples(project, "promotions", OOS_AS_FAQ)
    job = _wait_for(store, store.enqueue("lucia")[0]["id"])
    assert job["state"] == REFUSED, job
    assert "out-of-scope rejection fell" in job["reason"]
    worse = {w["faq"]: w for w in job["verdict"]["worse"]}
    assert [m for m in worse["out_of_scope"]["misses"] if m[1] == "faq/promotions"], worse
    status = {s["name"]: s["status"] for s in job["stages"]}
    assert (status["regression check"], status["swap"], status["first answer"]) == (REFUSED, "waiting", "waiting")
    assert _loaded(stack) == live_before
    assert store.history() == history_before
    models_after = {p.name: p.stat().st_mtime for p in (project / "models").glob("*.tar.gz")}
    assert models_after == models_before, "a refused model must not become what a restarted Rasa loads"


def test_when_one_rasa_process_refuses_the_model_the_others_are_swapped_back(stack, project, publisher):
    """RASA_URLS with a second process that is down: the first is swapped, then back."""
    from bot.content.publisher import Publisher, Rasa
    from core.redis_conn import free_port, get_redis

    store = PublishStore(get_redis(stack.redis_url))
    live, history_before = store.live(), store.history()
    target = next(r for r in history_before if r["kind"] == "publish")
    down = f"http://127.0.0.1:{free_port()}"
    worker = Publisher(store, Rasa([stack.rasa_url, down], stack.env["RASA_TOKEN"]), root=project)
    # Handed to this worker directly, not queued: the running worker would take it.
    job = worker.handle({"id": "two-rasa", "kind": ROLLBACK, "user": "lucia", "target": target["id"]})
    assert job["state"] == "failed" and f"swap failed on {down}" in job["reason"], job
    assert _loaded(stack) == Path(live["model"]).name
    assert store.live() == live and store.history() == history_before
