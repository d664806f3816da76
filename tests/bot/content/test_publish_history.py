"""History without git: the record in Redis carries the diff against the last publish."""
from __future__ import annotations

from bot.content.history import FIRST_PUBLISH, git_top, record_change
from bot.content.publish_store import RUNNING, FAILED, PublishStore


def test_without_git_the_diff_is_against_the_last_published_data(tmp_path, redis_client):
    (tmp_path / "data" / "faq").mkdir(parents=True)
    faq = tmp_path / "data" / "faq" / "a.yml"
    faq.write_text("nlu:\n- intent: faq/a\n  examples: |\n    - hola\n")
    assert git_top(tmp_path) is None
    store = PublishStore(redis_client)
    first = record_change(tmp_path, store, "lucia", "p1")
    assert (first.diff, first.commit, first.files) == (FIRST_PUBLISH, None, ["data/faq/a.yml"])
    faq.write_text("nlu:\n- intent: faq/a\n  examples: |\n    - hola\n    - buenas\n")
    second = record_change(tmp_path, store, "lucia", "p2")
    assert second.files == ["data/faq/a.yml"]
    assert "+    - buenas\n" in second.diff and "-    - hola" not in second.diff


def test_a_job_left_running_by_a_dead_worker_is_failed_so_publishing_works_again(redis_client):
    store = PublishStore(redis_client)
    job, _ = store.enqueue("lucia")
    job["state"] = RUNNING
    store.save(job)
    assert store.enqueue("lucia")[1] is False
    store.recover()  # no worker holds the lock
    assert store.job(job["id"])["state"] == FAILED
    assert store.enqueue("lucia")[1] is True
