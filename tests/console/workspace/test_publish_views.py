"""The Publish page: leads only; it enqueues for the worker and shows what the worker records
(its progress, a refusal's reasons, the history with diffs) and rolls back to a kept model."""
from __future__ import annotations

import re
import time

from bot.content import history
from bot.content.publish_store import QUEUE, REFUSED, ROLLBACK, PublishStore


def test_only_leads_see_and_use_the_publish_page(client_for):
    ana = client_for("ana")
    assert ana.get("/publish/").status_code == 403
    assert ana.post("/publish/", data={"csrf_token": ana.csrf}).status_code == 403
    assert 'href="/publish/"' not in ana.get("/").get_data(as_text=True)
    lucia = client_for("lucia")
    assert 'href="/publish/"' in lucia.get("/").get_data(as_text=True)
    assert lucia.get("/publish/").status_code == 200


def test_publish_queues_one_job_at_a_time_and_shows_its_live_progress(client_for, redis_client):
    lucia = client_for("lucia")
    assert lucia.post("/publish/", data={"csrf_token": lucia.csrf}).status_code == 303
    assert lucia.post("/publish/", data={"csrf_token": lucia.csrf}).status_code == 303
    assert redis_client.llen(QUEUE) == 1
    store = PublishStore(redis_client)
    job = store.active()
    assert (job["user"], job["kind"], job["state"]) == ("lucia", "publish", "queued")

    job.update(state="running", stage="train", stages=[
        {"name": "validate", "status": "done", "seconds": 0.4},
        {"name": "regression check", "status": "done", "seconds": 3.25},
        {"name": "train", "status": "running", "seconds": None},
    ])
    store.save(job)
    page = lucia.get("/publish/").get_data(as_text=True)
    assert "already running" in page
    assert 'id="publish-button" disabled' in page
    assert "<td>regression check</td>" in page and "3.2" in page
    assert lucia.get(f"/publish/jobs/{job['id']}").get_json()["stage"] == "train"
    assert lucia.get("/publish/jobs/nope").status_code == 404


def test_a_refusal_says_which_faqs_got_worse_and_why(client_for, redis_client):
    store = PublishStore(redis_client)
    job, _ = store.enqueue("lucia")
    job.update(state=REFUSED, reason="out-of-scope rejection fell from 90.0% to 60.0% (allowed drop 2.0%)",
               verdict={"ok": False, "reasons": [], "worse": [
                   {"faq": "out_of_scope", "before": 0.9, "after": 0.6,
                    "misses": [["cuentame un chiste", "faq/promotions"]]}]})
    store.finish(job, "nobody")
    page = client_for("lucia").get("/publish/").get_data(as_text=True)
    assert "out-of-scope rejection fell from 90.0% to 60.0%" in page
    assert "“cuentame un chiste” → faq/promotions" in page
    assert "disabled" not in page.split('id="publish-button"')[1].split(">")[0], "a new publish can start"


def test_history_shows_who_published_what_with_the_diff_and_rolls_back(client_for, redis_client):
    store = PublishStore(redis_client)
    older = {"id": "p1", "kind": "publish", "user": "lucia", "at": time.time() - 60, "model": "/m/a-p1.tar.gz",
             "commit": "0123456789abcdef", "diff": "+    - envio a tijuana\n", "files": ["data/faq/shipping_cost.yml"],
             "measurement": {"in_scope_accuracy": 0.9, "oos_rejection": 0.8}}
    store.add_history(older)
    store.add_history({**older, "id": "p2", "model": "/m/a-p2.tar.gz", "diff": "+    - otra\n"})
    lucia = client_for("lucia")
    page = lucia.get("/publish/").get_data(as_text=True)
    assert "+    - envio a tijuana" in page and "commit 0123456789" in page
    assert "in-scope accuracy 90.0 %" in page
    assert page.count("Roll back to this") == 1, "only to a model that is not live"
    assert lucia.post("/publish/rollback/p1", data={"csrf_token": lucia.csrf}).status_code == 303
    job = store.active()
    assert (job["kind"], job["target"], job["user"]) == (ROLLBACK, "p1", "lucia")
    assert lucia.post("/publish/rollback/missing", data={"csrf_token": lucia.csrf}).status_code == 404


def test_saved_edits_not_live_are_listed_and_the_rollback_warns_it_discards_them(client_for, redis_client, project):
    store = PublishStore(redis_client)
    record = {"id": "p1", "kind": "publish", "user": "lucia", "at": time.time() - 60, "model": "/m/a-p1.tar.gz",
              "commit": None, "data_commit": None, "diff": "", "files": [], "measurement": None}
    store.add_history(record, history.data_files(project))
    store.add_history({**record, "id": "p2", "model": "/m/a-p2.tar.gz"}, history.data_files(project))
    lucia = client_for("lucia")
    page = lucia.get("/publish/").get_data(as_text=True)
    assert "No unpublished changes" in page and "unpublished changes; rolling back" not in page

    path = project / "data" / "faq" / "returns.yml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# saved, not published\n", encoding="utf-8")
    page = lucia.get("/publish/").get_data(as_text=True)
    assert "Unpublished changes: 1 file saved since what is live" in page
    assert "<code>data/faq/returns.yml</code>" in page
    assert ("1 file has unpublished changes; rolling back discards them — they stay in the history's diff."
            in page.split('class="rollback-form"')[1].split(">")[0])
    faqs = lucia.get("/faqs/").get_data(as_text=True)
    rows = {key: row for key, row in re.findall(r'<tr data-faq="([^"]+)">(.*?)</tr>', faqs, re.S)}
    assert "unpublished" in rows["returns"] and "unpublished" not in rows["shipping_cost"]
