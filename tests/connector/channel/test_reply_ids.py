"""Button and list reply ids: only ids we sent may carry a Rasa payload (intent + entities)."""
import pytest

from connector.cloudapi import limits, messages, reply_ids
from connector.cloudapi.limits import LimitError
from connector.channel.turns import rasa_text
from connector.webhook.inbound import parse_webhook

from tests.connector.channel.test_turns import interactive

MENU = [{"title": f"Tema {i}", "payload": f'/faq_pick{{"faq_key":"k{i}"}}'} for i in range(5)]
YES_NO = [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def reply(kind: str, reply_id: str, title: str):
    return parse_webhook(interactive(kind, {"id": reply_id, "title": title})).messages[0]


def sent_ids(body):
    action = body["interactive"]["action"]
    if "buttons" in action:
        return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
    return [(r["id"], r["title"]) for r in action["sections"][0]["rows"]]


@pytest.mark.parametrize("kind, buttons", [("button_reply", YES_NO), ("list_reply", MENU)])
def test_a_reply_to_our_own_button_reaches_rasa_as_its_payload(kind, buttons):
    body = messages.buttons_body("34600", "Elige", buttons)
    for (reply_id, title), button in zip(sent_ids(body), buttons):
        assert rasa_text(reply(kind, reply_id, title)) == button["payload"]


@pytest.mark.parametrize("kind", ["button_reply", "list_reply"])
def test_a_made_up_slash_id_is_read_as_its_title_not_as_an_intent(kind):
    # A modified client may send any id: "/restart" would un-pause a chat an agent holds.
    assert rasa_text(reply(kind, "/restart", "Reiniciar")) == "Reiniciar"
    assert rasa_text(reply(kind, "/restart", "/restart")) == "restart"


def test_a_tag_copied_onto_another_payload_is_refused():
    (yes_id, _), _ = sent_ids(messages.buttons_body("34600", "Elige", YES_NO))
    tag = yes_id[len("/affirm"):]
    assert rasa_text(reply("button_reply", "/restart" + tag, "Sí")) == "Sí"


def test_a_tag_made_with_another_app_secret_is_refused(monkeypatch):
    (yes_id, _), _ = sent_ids(messages.buttons_body("34600", "Elige", YES_NO))
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "another-app")
    assert rasa_text(reply("button_reply", yes_id, "Sí")) == "Sí"


def test_tagged_ids_stay_within_whatsapps_id_limits():
    longest_reply = limits.REPLY_ID_MAX - reply_ids.OVERHEAD
    longest_row = limits.ROW_ID_MAX - reply_ids.OVERHEAD
    body = messages.buttons_body("34600", "Elige", [{"title": "A", "payload": "/" + "p" * (longest_reply - 1)}])
    assert len(sent_ids(body)[0][0]) == limits.REPLY_ID_MAX
    rows = [{"title": "A", "payload": "/" + "p" * (longest_row - 1)}] + MENU[:3]
    assert max(len(i) for i, _ in sent_ids(messages.buttons_body("34600", "Elige", rows))) == limits.ROW_ID_MAX
    with pytest.raises(LimitError, match=f"limit {longest_reply}"):
        messages.buttons_body("34600", "Elige", [{"title": "A", "payload": "p" * (longest_reply + 1)}])


async def test_the_channel_tags_with_its_configured_app_secret_not_the_environment(
        config, redis_client, recorder, monkeypatch):
    """credentials.yml may set app_secret; the webhook signature and the id tags must agree."""
    import dataclasses

    from tests.connector.conftest import make_channel

    monkeypatch.setenv("WHATSAPP_APP_SECRET", "another secret in the environment")
    channel = make_channel(dataclasses.replace(config, app_secret="the configured secret"), redis_client, recorder)
    output = channel.get_output_channel()
    body = messages.buttons_body("34600", "Elige", YES_NO, id_key=output.id_key)
    (reply_id, title), _ = sent_ids(body)
    assert reply_ids.untag(reply_id, reply_ids.key("the configured secret")) == "/affirm"
    assert rasa_text(reply("button_reply", reply_id, title), output.id_key) == "/affirm"
    assert rasa_text(reply("button_reply", reply_id, title)) == title  # the environment's key differs
