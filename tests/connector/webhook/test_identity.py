from connector.webhook.identity import Identity, Recipient
from connector.webhook.types import Sender


def test_wa_id_is_the_conversation_and_the_recipient(redis_client):
    ids = Identity(redis_client)
    conv = ids.resolve(Sender("34600", None, "Ana"))
    assert conv == "34600"
    assert ids.recipient(conv).fields() == {"to": "34600"}
    assert ids.name(conv) == "Ana"


def test_bsuid_only_user_then_seen_with_phone_number(redis_client):
    ids = Identity(redis_client)
    conv = ids.resolve(Sender(None, "US.77", "Ana"))
    assert conv == "US.77"
    assert ids.recipient(conv).fields() == {"recipient": "US.77"}
    # Later the same person shows their number: same conversation, replies now by number.
    assert ids.resolve(Sender("34600", "US.77")) == "US.77"
    assert ids.resolve(Sender("34600", None)) == "US.77"
    assert ids.recipient("US.77") == Recipient("34600", "US.77")


def test_number_change_keeps_the_conversation(redis_client):
    ids = Identity(redis_client)
    conv = ids.resolve(Sender("16505551234", None, "Sheena"))
    assert ids.change_number(Sender("16505551234"), "12195555358") == conv
    assert ids.resolve(Sender("12195555358", None)) == conv
    assert ids.recipient(conv).fields() == {"to": "12195555358"}


def test_unknown_conversation_falls_back_to_its_id(redis_client):
    ids = Identity(redis_client)
    assert ids.recipient("34611").fields() == {"to": "34611"}
    assert ids.recipient("US.5").fields() == {"recipient": "US.5"}
