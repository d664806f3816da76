import datetime as dt

import pytest

from connector.webhook.inbound import PayloadError, parse_envelope, parse_webhook
from connector.channel.turns import rasa_text

# Example name → (kind, what Rasa is given; None = no bot turn)
EXPECTED = {
    "Text Message": ("text", "Does it come in another color?"),
    "Text Message with Context (Product Inquiry)": ("text", "Is this still available?"),
    "Text Message from Click to WhatsApp Ad": ("text", "Hello! Can I get more info on this?"),
    "Reaction Message": ("reaction", None),
    "Image Message": ("image", '/media_received{"media_kind":"image"}'),
    "Location Message": ("location", "/shared_location"),
    "Contact Sharing Message": ("contacts", "/shared_contacts"),
    "Unsupported Message": ("unsupported", "/unsupported_message"),
    "Button Message": ("template_button", "Unsubscribe"),
    "Interactive List Reply Message": ("list_reply", "Priority Mail Express"),
    "Interactive Button Reply Message": ("button_reply", "Cancel"),
    "Order Message": ("order", "/order_received"),
    "System Message": ("system", None),
}
GROUP_EVENTS = {"Group Create Message", "Group Settings Update", "Group Remove Participants"}


def test_all_examples_are_covered(examples):
    assert set(examples) == set(EXPECTED) | GROUP_EVENTS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_parses_to_kind_and_bot_input(examples, name):
    batch = parse_webhook(examples[name])
    assert len(batch.messages) == 1 and not batch.ignored
    message = batch.messages[0]
    kind, rasa = EXPECTED[name]
    assert message.kind == kind
    assert message.wamid.startswith("wamid.")
    assert message.sender.key == "16505551234"
    assert isinstance(message.timestamp, dt.datetime) and message.timestamp.tzinfo
    assert message.phone_number_id == "106540352242922"
    assert rasa_text(message) == rasa


@pytest.mark.parametrize("name", sorted(GROUP_EVENTS))
def test_group_events_are_acknowledged_and_ignored(examples, name):
    batch = parse_webhook(examples[name])
    assert not batch.messages and not batch.statuses
    assert len(batch.ignored) == 1 and batch.ignored[0].field.startswith("group_")


def test_details_are_kept(examples):
    image = parse_webhook(examples["Image Message"]).messages[0]
    assert (image.media.id, image.media.mime_type, image.media.caption) == ("1003383421387256", "image/jpeg", "Taj Mahal")
    assert image.media.sha256.startswith("SfInY0")
    loc = parse_webhook(examples["Location Message"]).messages[0].location
    assert (loc.latitude, loc.name) == (37.44221496582, "Philz Coffee")
    contacts = parse_webhook(examples["Contact Sharing Message"]).messages[0].contacts
    assert contacts[0].formatted_name == "Lucía Gómez" and contacts[0].wa_ids == ("19835552319",)
    order = parse_webhook(examples["Order Message"]).messages[0].order
    assert [(i.product_retailer_id, i.quantity) for i in order.items] == [("di9ozbzfi4", 2), ("nqryix03ez", 1)]
    unsupported = parse_webhook(examples["Unsupported Message"]).messages[0]
    assert unsupported.errors[0].code == 131051
    system = parse_webhook(examples["System Message"]).messages[0]
    assert (system.sender.wa_id, system.new_wa_id, system.sender.name) == ("16505551234", "12195555358", None)
    ctx = parse_webhook(examples["Text Message with Context (Product Inquiry)"]).messages[0].context
    assert ctx.product_retailer_id == "di9ozbzfi4"
    ad = parse_webhook(examples["Text Message from Click to WhatsApp Ad"]).messages[0].referral
    assert ad.source_type == "ad" and ad.ctwa_clid
    reply = parse_webhook(examples["Interactive List Reply Message"]).messages[0]
    assert (reply.payload, reply.description) == ("priority_express", "Next Day to 2 Days")


def test_unreact_has_no_emoji(examples):
    payload = examples["Reaction Message"]
    msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    for emoji in (None, ""):
        raw = {**msg, "reaction": {"message_id": "wamid.X"} if emoji is None else {"message_id": "wamid.X", "emoji": ""}}
        changed = {**payload, "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            **payload["entry"][0]["changes"][0]["value"], "messages": [raw]}}]}]}
        reaction = parse_webhook(changed).messages[0].reaction
        assert reaction.removed and reaction.message_id == "wamid.X"


def _value(messages, contacts=None, statuses=None):
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"}}
    if messages is not None:
        value["messages"] = messages
    if contacts is not None:
        value["contacts"] = contacts
    if statuses is not None:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}


def test_business_scoped_user_without_phone_number():
    payload = _value(
        [{"from_user_id": "US.1349", "id": "wamid.B", "timestamp": "1750000000", "type": "text", "text": {"body": "hola"}}],
        contacts=[{"profile": {"name": "Ana"}, "user_id": "US.1349"}],
    )
    msg = parse_webhook(payload).messages[0]
    assert (msg.sender.wa_id, msg.sender.user_id, msg.sender.name, msg.sender.key) == (None, "US.1349", "Ana", "US.1349")


def test_contacts_are_matched_by_id_not_position():
    payload = _value(
        [{"from": "2", "id": "wamid.2", "timestamp": "1", "type": "text", "text": {"body": "b"}},
         {"from": "3", "id": "wamid.3", "timestamp": "1", "type": "text", "text": {"body": "c"}}],
        contacts=[{"profile": {"name": "One"}, "wa_id": "1"}, {"profile": {"name": "Two"}, "wa_id": "2"}],
    )
    names = [m.sender.name for m in parse_webhook(payload).messages]
    assert names == ["Two", None]


def test_unknown_and_odd_messages_never_crash():
    payload = _value([
        {"from": "1", "id": "wamid.u", "timestamp": "1", "type": "hologram", "hologram": {}},
        {"from": "1", "id": "wamid.f", "timestamp": "x", "type": "interactive", "interactive": {"type": "nfm_reply"}},
        {"from": "1", "id": "wamid.t", "type": "text"},
        {"from": "1", "type": "text", "text": {"body": "no id"}},
        {"id": "wamid.nosender", "type": "text", "text": {"body": "?"}},
        {"from": "1", "id": "wamid.g", "group_id": "G1", "type": "text", "text": {"body": "in a group"}},
        "not an object",
    ])
    batch = parse_webhook(payload)
    assert [(m.wamid, m.kind) for m in batch.messages] == [("wamid.u", "unknown"), ("wamid.f", "unknown"), ("wamid.t", "text")]
    assert batch.messages[1].timestamp is None
    # A type Meta added after this code is an event, not a question: recorded, not answered
    # (a customer message Meta cannot pass on arrives as "unsupported" and is answered).
    assert rasa_text(batch.messages[0]) is None
    assert rasa_text(batch.messages[2]) is None  # empty text: nothing to answer
    assert [i.reason for i in batch.ignored] == ["group message (the bot only answers 1:1 chats)"]
    assert [r.wamid for r in batch.rejected] == [None, "wamid.nosender", None]  # no id, no sender, not an object


def test_statuses():
    payload = _value(None, statuses=[
        {"id": "wamid.S", "status": "failed", "timestamp": "1750000000", "recipient_id": "34600",
         "errors": [{"code": 131047, "title": "Re-engagement message", "error_data": {"details": "more than 24h"}}]},
        {"id": "wamid.D", "status": "delivered", "timestamp": "1750000001", "recipient_user_id": "US.9",
         "conversation": {"id": "c1", "expiration_timestamp": "1750086400", "origin": {"type": "service"}},
         "pricing": {"billable": False, "pricing_model": "PMP", "category": "service"}},
        {"status": "read"},
    ])
    batch = parse_webhook(payload)
    failed, delivered = batch.statuses
    assert failed.error_codes == (131047,) and failed.errors[0].details == "more than 24h"
    assert failed.recipient_key == "34600"
    assert delivered.recipient_key == "US.9" and delivered.conversation_origin == "service"
    assert delivered.pricing_billable is False and delivered.pricing_model == "PMP"
    assert delivered.conversation_expires_at.year == 2025
    assert len(batch.rejected) == 1 and not batch.ignored


@pytest.mark.parametrize("payload", [[], "x", None, {"object": "whatsapp_business_account", "entry": {}}])
def test_not_a_webhook(payload):
    with pytest.raises(PayloadError):
        parse_webhook(payload)


def test_other_objects_and_fields_are_ignored():
    assert parse_webhook({"object": "page", "entry": []}).ignored[0].field == "object"
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "business_capability_update", "value": {}}, {"field": "template_category_update", "value": {}}]}]}
    batch = parse_webhook(payload)
    assert not batch.messages and len(batch.ignored) == 2


# Timestamps Meta would never send but a signed body can carry: out of datetime's range, or
# dated after year 9999 (1e18 seconds).
ABSURD_TIMES = ["99999999999999999999", 99999999999999999999, 10 ** 18, 1e18, "1e18", -10 ** 18, "1e400"]
OVERFLOWS = [float("inf"), -float("inf"), float("nan")]  # what json.loads makes of 1e400 / -1e400


@pytest.mark.parametrize("ts", ABSURD_TIMES + OVERFLOWS, ids=repr)
def test_absurd_timestamps_in_messages_and_statuses_are_no_time(ts):
    message = {"from": "1", "id": "wamid.T", "timestamp": ts, "type": "text", "text": {"body": "hola"}}
    payload = _value(
        [message],
        statuses=[{"id": "wamid.S", "status": "read", "timestamp": ts, "recipient_id": "1",
                   "conversation": {"id": "c", "expiration_timestamp": ts}}],
    )
    batch = parse_webhook(payload)
    assert [(s.timestamp, s.conversation_expires_at) for s in batch.statuses] == [(None, None)]
    if ts in OVERFLOWS:  # no JSON form, so the message cannot be queued (see below)
        assert not batch.messages and batch.rejected[0].wamid == "wamid.T"
    else:
        assert [m.timestamp for m in batch.messages] == [None]
    # The worker re-parses stored envelopes the same way.
    assert parse_envelope({"message": message}).timestamp is None


def test_absurd_numbers_in_a_stored_message_do_not_break_parsing():
    raws = [
        {"from": "1", "id": "wamid.L", "type": "location", "location": {"latitude": float("inf"), "longitude": "1e400"}},
        {"from": "1", "id": "wamid.O", "type": "order",
         "order": {"product_items": [{"quantity": float("inf"), "item_price": float("nan")}]}},
        {"from": "1", "id": "wamid.E", "type": "unsupported", "errors": [{"code": float("inf")}]},
    ]
    location, order, unsupported = (parse_envelope({"message": raw}) for raw in raws)
    assert (location.location.latitude, location.location.longitude) == (None, None)
    assert (order.order.items[0].quantity, order.order.items[0].item_price) == (None, None)
    assert unsupported.errors[0].code is None


def test_a_message_that_cannot_be_stored_is_rejected_and_the_others_kept():
    good = {"from": "1", "id": "wamid.good", "timestamp": "1", "type": "text", "text": {"body": "hola"}}
    # JSON allows 1e400, Python decodes it as infinity, and infinity has no JSON form: the
    # stored envelope would not decode in the worker or in Redis's cjson.
    overflow = {**good, "id": "wamid.inf", "extra": float("inf")}
    deep: list = []
    for _ in range(200):
        deep = [deep]
    nested = {**good, "id": "wamid.deep", "extra": deep}
    batch = parse_webhook(_value([overflow, good, nested, "not an object"]))
    assert [m.wamid for m in batch.messages] == ["wamid.good"]
    assert sorted(r.wamid or "" for r in batch.rejected) == ["", "wamid.deep", "wamid.inf"]
    assert all(r.reason for r in batch.rejected)


def test_customer_text_is_capped_at_whatsapp_length_before_nlu():
    from connector.cloudapi.limits import TEXT_MAX

    huge = "¿" + "a" * (1024 * 1024)
    payload = _value([
        {"from": "1", "id": "wamid.big", "timestamp": "1", "type": "text", "text": {"body": huge}},
        {"from": "1", "id": "wamid.btn", "timestamp": "1", "type": "interactive", "interactive": {
            "type": "button_reply", "button_reply": {"id": huge, "title": huge}}},
        {"from": "1", "id": "wamid.small", "timestamp": "1", "type": "text", "text": {"body": "a" * TEXT_MAX}},
    ])
    big, button, small = parse_webhook(payload).messages
    assert big.text == huge[:TEXT_MAX] and big.truncated
    assert rasa_text(big) == huge[:TEXT_MAX]
    assert len(button.text) == len(button.payload) == TEXT_MAX and button.truncated
    assert small.text == "a" * TEXT_MAX and not small.truncated
    # The stored envelope keeps what Meta sent; the worker's re-parse caps it the same way.
    assert big.envelope["message"]["text"]["body"] == huge
