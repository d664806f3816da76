"""Labels: leads keep the set (agents get 403), agents put them on chats they hold, and a
resolve keeps them on the episode, where the history and the search by label find them."""
from __future__ import annotations

import pytest

from console.desk.labels import OPEN, Labels

from ..conftest import cpath


@pytest.fixture
def labels(redis_client, clock):
    return Labels(redis_client, clock)


def test_leads_create_rename_recolour_and_delete_labels_and_agents_get_403(client_for, labels):
    lucia, ana = client_for("lucia"), client_for("ana")
    assert ana.get("/labels").status_code == 403
    assert ana.post("/labels", data={"name": "Cambio", "colour": "blue", "csrf_token": ana.csrf}).status_code == 403
    assert labels.all() == []
    assert lucia.post("/labels", data={"name": " Cambio  de talla ", "colour": "blue",
                                       "csrf_token": lucia.csrf}).status_code == 303
    label, = labels.all()
    assert (label.name, label.colour) == ("Cambio de talla", "blue")
    refused = lucia.post("/labels", data={"name": "cambio DE talla", "colour": "red", "csrf_token": lucia.csrf},
                         follow_redirects=True)
    assert "already a label called" in refused.get_data(as_text=True) and len(labels.all()) == 1
    assert lucia.post("/labels", data={"name": "x", "colour": "black", "csrf_token": lucia.csrf},
                      follow_redirects=True).status_code == 200 and len(labels.all()) == 1
    assert ana.post(f"/labels/{label.id}", data={"name": "Otro", "colour": "red",
                                                 "csrf_token": ana.csrf}).status_code == 403
    lucia.post(f"/labels/{label.id}", data={"name": "Cambio", "colour": "green", "csrf_token": lucia.csrf})
    assert labels.get(label.id) == type(label)(label.id, "Cambio", "green")
    assert "Cambio" in lucia.get("/labels").get_data(as_text=True)
    assert ana.post(f"/labels/{label.id}/delete", data={"csrf_token": ana.csrf}).status_code == 403
    assert lucia.post(f"/labels/{label.id}/delete", data={"csrf_token": lucia.csrf}).status_code == 303
    assert labels.all() == [] and lucia.post(f"/labels/{label.id}/delete",
                                             data={"csrf_token": lucia.csrf}).status_code == 404


def test_the_agent_holding_a_chat_puts_labels_on_and_off_and_others_may_not(client_for, assigned, labels, handoff):
    vip, urgent = labels.create("VIP", "purple"), labels.create("Urgente", "red")
    conv = assigned("ana")
    ana, luis = client_for("ana"), client_for("luis")
    assert ana.post(f"{cpath(conv)}/labels", data={"label": vip.id, "csrf_token": ana.csrf}).status_code == 303
    ana.post(f"{cpath(conv)}/labels", data={"label": urgent.id, "csrf_token": ana.csrf})
    assert [label.name for label in labels.on(conv)] == ["Urgente", "VIP"]
    assert luis.post(f"{cpath(conv)}/labels", data={"label": vip.id, "on": "0",
                                                    "csrf_token": luis.csrf}).status_code == 403
    assert ana.post(f"{cpath(conv)}/labels", data={"label": "nope", "csrf_token": ana.csrf}).status_code == 404
    ana.post(f"{cpath(conv)}/labels", data={"label": urgent.id, "on": "0", "csrf_token": ana.csrf})
    page = ana.get(cpath(conv)).get_data(as_text=True)
    assert 'class="label label-purple">VIP' in page and 'id="past-conversations-link"' in page
    # A colleague sees the labels but gets no form to change them.
    assert 'id="label-add"' not in luis.get(cpath(conv)).get_data(as_text=True)
    assert [r[0] for r in labels.ranges(vip.id)] == [conv] and labels.ranges(vip.id)[0][2] == OPEN
    assert labels.ranges(urgent.id) == ()


def test_a_resolve_keeps_the_chats_labels_on_its_episode(client_for, assigned, labels, handoff, clock):
    vip = labels.create("VIP", "purple")
    conv = assigned("ana")
    queued_at = handoff.state(conv).queued_at.timestamp()
    ana = client_for("ana")
    ana.post(f"{cpath(conv)}/labels", data={"label": vip.id, "csrf_token": ana.csrf})
    clock.advance(minutes=10)
    assert ana.post(f"{cpath(conv)}/resolve", data={"csrf_token": ana.csrf}).status_code == 303
    assert labels.on(conv) == []
    episode, = labels.episodes(handoff.state(conv))
    assert (episode.start, episode.end, episode.agent, episode.labels) == (
        queued_at, clock.now().timestamp(), "ana", (vip.id,))
    (who, start, end), = labels.ranges(vip.id)
    assert who == conv and start < queued_at and end > clock.now().timestamp() != OPEN
    assert [label.name for label in labels.of_conversation([episode], queued_at - 60, queued_at + 700, True)] == ["VIP"]
    assert labels.of_conversation([episode], queued_at - 60, queued_at + 700, False) == []
    assert labels.of_conversation([episode], queued_at + 3600, queued_at + 4000, True) == []
    # Deleted, the label is gone from the search and from the record's display.
    labels.delete(vip.id)
    assert labels.ranges(vip.id) == () and labels.of_conversation([episode], queued_at, queued_at, True) == []


def test_the_chat_list_filters_by_label(client_for, assigned, labels):
    vip = labels.create("VIP", "purple")
    first = assigned("ana", conv="5215500000001", name="Rosa")
    assigned("ana", conv="5215500000002", name="Elena")
    ana = client_for("ana")
    ana.post(f"{cpath(first)}/labels", data={"label": vip.id, "csrf_token": ana.csrf})
    everything = ana.get("/").get_data(as_text=True)
    assert "Rosa" in everything and "Elena" in everything and 'label-purple">VIP' in everything
    only = ana.get("/", query_string={"label": vip.id}).get_data(as_text=True)
    assert "Rosa" in only and "Elena" not in only
    # The live refresh keeps the filter.
    assert f'data-partial-url="/queue/partial?label={vip.id}"' in only
    assert "Elena" not in ana.get("/queue/partial", query_string={"label": vip.id}).get_data(as_text=True)
