"""History without git: each record keeps its data/ in Redis, the diff is against the live
record's, a rollback writes a record's data/ back, and what is saved but not live is known."""
from __future__ import annotations

import json

from bot.content.history import FIRST_PUBLISH, files_of, git_top, kept, record_change, restore, unpublished
from bot.content.publish_store import FAILED, HISTORY_KEEP, RUNNING, PublishStore, files_key

FAQ = "nlu:\n- intent: faq/a\n  examples: |\n    - hola\n"


def _project(tmp_path):
    (tmp_path / "data" / "faq").mkdir(parents=True)
    faq = tmp_path / "data" / "faq" / "a.yml"
    faq.write_text(FAQ)
    assert git_top(tmp_path) is None
    return faq


def _publish(root, store, record_id):
    change = record_change(root, store, "lucia", record_id)
    data_commit, files = kept(root)
    store.add_history({"id": record_id, "diff": change.diff, "files": change.files,
                       "data_commit": data_commit}, files)
    return change


def test_without_git_the_diff_is_against_the_live_records_data(tmp_path, redis_client):
    faq = _project(tmp_path)
    store = PublishStore(redis_client)
    first = _publish(tmp_path, store, "p1")
    assert (first.diff, first.commit, first.files) == (FIRST_PUBLISH, None, ["data/faq/a.yml"])
    faq.write_text(FAQ + "    - buenas\n")
    second = _publish(tmp_path, store, "p2")
    assert second.files == ["data/faq/a.yml"]
    assert "+    - buenas\n" in second.diff and "-    - hola" not in second.diff


def test_a_rollback_restores_a_records_files_and_its_diff_keeps_unpublished_edits(tmp_path, redis_client):
    faq = _project(tmp_path)
    store = PublishStore(redis_client)
    _publish(tmp_path, store, "initial")
    faq.write_text(FAQ + "    - buenas\n")
    (tmp_path / "data" / "faq" / "b.yml").write_text("nlu: []\n")
    _publish(tmp_path, store, "p1")
    assert unpublished(tmp_path, store) == []
    faq.write_text(FAQ + "    - buenas\n    - saved, never published\n")
    assert unpublished(tmp_path, store) == ["data/faq/a.yml"]

    change = restore(tmp_path, files_of(tmp_path, store, store.record("initial")), "lucia", "initial")
    assert faq.read_text() == FAQ and not (tmp_path / "data" / "faq" / "b.yml").exists()
    assert change.files == ["data/faq/a.yml", "data/faq/b.yml"] and change.commit is None
    assert "-    - saved, never published\n" in change.diff and "-    - buenas\n" in change.diff


def test_the_kept_files_go_with_the_records_trimmed_off_the_history(tmp_path, redis_client):
    _project(tmp_path)
    store = PublishStore(redis_client)
    for n in range(HISTORY_KEEP + 2):
        store.add_history({"id": f"p{n}"}, {"data/faq/a.yml": str(n)})
    assert len(store.history(HISTORY_KEEP + 5)) == HISTORY_KEEP
    assert not redis_client.exists(files_key("p0")) and not redis_client.exists(files_key("p1"))
    assert json.loads(redis_client.get(files_key("p2"))) == {"data/faq/a.yml": "2"}
    assert store.live()["id"] == f"p{HISTORY_KEEP + 1}"


def test_a_job_left_running_by_a_dead_worker_is_failed_so_publishing_works_again(redis_client):
    store = PublishStore(redis_client)
    job, _ = store.enqueue("lucia")
    job["state"] = RUNNING
    store.save(job)
    assert store.enqueue("lucia")[1] is False
    store.recover()  # no worker holds the lock
    assert store.job(job["id"])["state"] == FAILED
    assert store.enqueue("lucia")[1] is True


def test_with_git_a_record_keeps_its_commit_even_when_a_publish_changed_nothing(tmp_path, redis_client):
    import subprocess

    root = tmp_path / "repo" / "project"  # the project below the repository's top
    faq = _project(root)
    subprocess.run(["git", "-C", str(tmp_path / "repo"), "init", "-q"], check=True)
    store = PublishStore(redis_client)
    faq.write_text(FAQ + "    - buenas\n")
    first = _publish(root, store, "p1")
    assert first.commit and store.live()["data_commit"] == first.commit
    unchanged = _publish(root, store, "p2")
    assert unchanged.commit is None and store.live()["data_commit"] == first.commit
    assert not redis_client.exists(files_key("p2"))
    assert files_of(root, store, store.live()) == {"data/faq/a.yml": FAQ + "    - buenas\n"}
    faq.write_text("changed\n")
    assert kept(root)[0] is None, "uncommitted data/ is kept in Redis"
    assert unpublished(root, store) == ["data/faq/a.yml"]
