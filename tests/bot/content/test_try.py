"""Try it in the publish worker: questions through Redis, a queued publish first, and the answers
of the draft model, here the session's model copied with a fingerprint stamp of this copy's data
(so nothing trains). A stale draft built by the worker process, then reused by the publish that
follows, is in test_publisher.py, where that training is the publish's own.
"""
from __future__ import annotations

import pytest

from bot.content import training
from bot.content.history import data_files
from bot.content.publish_store import PublishStore
from bot.content.try_server import TryServer
from bot.content.try_store import DONE, QUEUE, QUEUED, WAKE, TryStore, request_key

from tests.publishing import copy_with_model

# Not like any example: the session's model falls back on it.
NONSENSE = "el ajolote morado baila cumbia"


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
    """A copy of the project whose draft model (the publisher's build folder) is the session's."""
    return copy_with_model(tmp_path_factory.mktemp("try-project"), trained_model, "var/publish/build")


@pytest.fixture(scope="module")
def server(project):
    # One server for the module: the agent is loaded once per model file, as in the worker.
    return TryServer(None, None, project, project / "var" / "publish" / "build", "test-worker")


def _serve(server: TryServer, redis_client, question: str) -> dict:
    server.tries, server.publish = TryStore(redis_client), PublishStore(redis_client)
    asked = server.tries.ask(question, "lucia")
    assert server.serve_one()
    return server.tries.request(asked["id"])


@pytest.mark.model
def test_the_worker_answers_with_the_draft_model_and_its_runners_up(server, project, redis_client):
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

    # What the last publish made live: the same data.
    PublishStore(redis_client).add_history({"id": "initial", "kind": "initial", "model": ""}, data_files(project))
    missed = _serve(server, redis_client, NONSENSE)["result"]
    assert missed["intent"] == "nlu_fallback", "below the threshold"
    assert missed["ranking"][0]["confidence"] < 0.35 and missed["responses"] == []
    assert missed["unpublished"] == [], "the same data as published"


@pytest.mark.model
def test_an_edit_kept_as_a_draft_is_not_in_the_draft_model(server, project, redis_client):
    """The editor keeps an edit with problems in Redis, not in data/: the draft model stays as it is."""
    from console.workspace.faq_editor import FaqEditor
    from core.clock import SYSTEM_CLOCK

    editor = FaqEditor(redis_client, project, SYSTEM_CLOCK)
    form = editor.load("returns")
    form.examples["en"] = ["return"]  # too few examples: kept as a draft
    assert editor.save(form, "lucia").status == "draft"
    assert training.up_to_date(project, server.build)
