"""Try it in the publish worker: questions through Redis, a publish first, and the draft model,
built from data/ only when stale and then the model the next publish finds up to date.

One real training here (the added example); the first answers reuse the session's model, copied
with a fingerprint stamp of this copy's data.
"""
from __future__ import annotations

import json
import os
import shutil

import pytest
from rasa.engine.caching import DEFAULT_CACHE_LOCATION

from bot.content import training
from bot.content.history import data_files
from bot.content.publish_store import PublishStore
from bot.content.try_server import TryServer
from bot.content.try_store import DONE, QUEUE, QUEUED, WAKE, TryStore, request_key
from tests.stack import ROOT

from .test_publisher import _add_examples

# Not like any example: the session's model falls back on it, the draft learns it.
NEW_EXAMPLE = "el ajolote morado baila cumbia"


def test_a_question_waits_in_redis_and_a_queued_publish_is_taken_first(redis_client):
    tries, publish = TryStore(redis_client), PublishStore(redis_client)
    asked = tries.ask("cuanto cuesta el envio", "lucia")
    tries.ask("y a tijuana", "lucia")
    assert redis_client.llen(WAKE) == 1, "one token however many questions"
    assert 0 < redis_client.ttl(request_key(asked["id"])) <= 600
    job, _ = publish.enqueue("lucia")
    assert publish.next_job(5, wake=(WAKE,))["id"] == job["id"]
    assert publish.next_job(5, wake=(WAKE,)) is None  # the wake-up: questions are waiting
    first = tries.next_request()
    assert (first["id"], first["state"], first["question"]) == (asked["id"], QUEUED, "cuanto cuesta el envio")
    redis_client.delete(request_key(tries.next_request()["id"]))
    tries.ask("expired before the worker got to it", "lucia")
    redis_client.delete(request_key(redis_client.lindex(QUEUE, 0)))
    assert tries.next_request() is None and not tries.pending()


@pytest.fixture(scope="module")
def project(tmp_path_factory, trained_model):
    """A copy of the project whose draft model (the publisher's build folder) is the session's
    model, stamped with this copy's fingerprint: nothing to train until the data changes."""
    root = tmp_path_factory.mktemp("try-project")
    for name in ("config.yml", "domain.yml"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(ROOT / "bot" / "nlu", root / "bot" / "nlu")
    build = root / "var" / "publish" / "build"
    build.mkdir(parents=True)
    shutil.copyfile(trained_model, build / f"{training.MODEL_NAME}.tar.gz")
    (build / f"{training.MODEL_NAME}.fingerprint.json").write_text(json.dumps(training.fingerprint(root)))
    return root


@pytest.fixture(scope="module")
def server(project):
    # One server for the module: the agent is loaded once per model file, as in the worker.
    # The Rasa cache the session's model was trained with (conftest.py): the draft's training
    # then retrains only what the added example changes.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RASA_CACHE_DIRECTORY", os.environ.get("RASA_CACHE_DIRECTORY") or str(DEFAULT_CACHE_LOCATION.resolve()))
        yield TryServer(None, None, project, project / "var" / "publish" / "build", "test-worker")


def _serve(server: TryServer, redis_client, question: str) -> dict:
    server.tries, server.publish = TryStore(redis_client), PublishStore(redis_client)
    asked = server.tries.ask(question, "lucia")
    assert server.serve_one()
    return server.tries.request(asked["id"])


@pytest.mark.model
def test_the_worker_answers_with_the_draft_model_and_its_runners_up(server, redis_client):
    answered = _serve(server, redis_client, "cuanto cuesta el envio")
    assert answered["state"] == DONE and "built_seconds" not in answered, "the draft was up to date"
    result = answered["result"]
    winner, *runners_up = result["ranking"]
    assert (result["intent"], winner["label"]) == ("faq", "faq/shipping_cost")
    assert winner["confidence"] > 0.5 and len(runners_up) == 4
    assert all(r["confidence"] <= winner["confidence"] for r in runners_up)
    assert result["language"] == "es"
    assert any("$99" in v["text"] for v in result["responses"]), "the FAQ's answers, from the model's domain"
    assert result["unpublished"] is None and result["live"] is None, "nothing published to compare with"
    assert not server.serve_one(), "nothing else waiting"


@pytest.mark.model
def test_an_added_example_makes_the_draft_stale_then_the_draft_answers_it(server, project, redis_client):
    PublishStore(redis_client).set_snapshot(data_files(project))  # what the last publish saw
    before = _serve(server, redis_client, NEW_EXAMPLE)["result"]
    assert before["intent"] == "nlu_fallback", "below the threshold"
    assert before["ranking"][0]["label"] != "faq/gift_cards" and before["ranking"][0]["confidence"] < 0.35
    assert before["unpublished"] == []

    _add_examples(project, "gift_cards", [NEW_EXAMPLE])
    assert not training.up_to_date(project, server.build)
    answered = _serve(server, redis_client, NEW_EXAMPLE)
    assert answered["state"] == DONE and answered["built_seconds"] > 0
    assert answered["result"]["ranking"][0]["label"] == "faq/gift_cards"
    assert answered["result"]["intent"] == "faq"
    assert answered["result"]["unpublished"] == ["data/faq/gift_cards.yml"]
    draft = TryStore(redis_client).draft()
    assert draft["state"] == "ready" and draft["seconds"] == answered["built_seconds"]
    # The next publish's train stage finds the draft up to date: no second training.
    assert not training.train(root=project, output=server.build).trained
