"""Meta's user_preferences webhook (a customer stops or resumes offers in WhatsApp's settings):
parsed, answered 200 and recorded in the consent register; and Meta's own template opt-out
button example is an opt-out."""
import dataclasses
import datetime as dt

import pytest

from connector.channel.turns import consent_command
from connector.inbox.queue import Ingest
from connector.policy.consent import MARKETING, OPTED_IN, OPTED_OUT, ConsentRegister
from connector.webhook.identity import Identity
from connector.webhook.inbound import parse_webhook
from connector.webhook.intake import Intake
from connector.webhook.types import PreferenceUpdate, Sender
from tests.connector.conftest import signed

# Meta's example (developers.facebook.com … webhooks/reference/user_preferences).
AT = 1731705721


def preferences(*entries: dict, phone_number_id: str = "106540352242922") -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
                  "contacts": [{"wa_id": "16505551234"}],
                  "user_preferences": list(entries)},
        "field": "user_preferences"}]}]}


def choice(value: str, at: int = AT, wa_id: str = "16505551234") -> dict:
    return {"wa_id": wa_id, "detail": f"User requested to {value} marketing messages",
            "category": "marketing_messages", "value": value, "timestamp": at}


def test_parsed_into_a_frozen_preference_update():
    batch = parse_webhook(preferences(choice("resume")))
    (update,) = batch.preferences
    assert update == PreferenceUpdate(
        wa_id="16505551234", category="marketing_messages", value="resume",
        timestamp=dt.datetime.fromtimestamp(AT, dt.timezone.utc),
        detail="User requested to resume marketing messages", phone_number_id="106540352242922")
    assert not batch.ignored and not batch.messages
    with pytest.raises(dataclasses.FrozenInstanceError):
        update.value = "stop"


def test_an_entry_without_its_ids_is_rejected_alone():
    batch = parse_webhook(preferences({"category": "marketing_messages", "value": "stop"}, choice("stop")))
    assert len(batch.preferences) == 1 and len(batch.rejected) == 1


def test_recorded_once_and_the_newest_choice_wins(redis_client):
    register = ConsentRegister(redis_client)
    intake = Intake(Ingest(redis_client), Identity(redis_client), consent=register)
    intake.accept(parse_webhook(preferences(choice("stop", AT))))
    intake.accept(parse_webhook(preferences(choice("stop", AT))))  # Meta's retry
    intake.accept(parse_webhook(preferences(choice("resume", AT - 60))))  # older, arrived late
    state = register.status("16505551234")[MARKETING]
    assert (state.state, state.source, state.by) == (OPTED_OUT, "whatsapp_settings", "WhatsApp")
    assert [c.applied for c in register.history("16505551234")] == [False, True]


def test_recorded_under_the_conversation_the_number_belongs_to(redis_client):
    identity = Identity(redis_client)
    conv = identity.resolve(Sender(wa_id=None, user_id="US.13491208655302741918"))
    identity.resolve(Sender(wa_id="16505551234", user_id="US.13491208655302741918"))
    register = ConsentRegister(redis_client)
    Intake(Ingest(redis_client), identity, consent=register).accept(parse_webhook(preferences(choice("stop"))))
    assert register.status(conv)[MARKETING].state == OPTED_OUT


def test_the_webhook_is_answered_200_and_another_numbers_is_not_recorded(channel, redis_client):
    register = ConsentRegister(redis_client)
    body, headers = signed(preferences(choice("resume")))
    assert channel.endpoint.handle(body, headers["X-Hub-Signature-256"]).status == 200
    assert register.status("16505551234")[MARKETING].state == OPTED_IN
    other = preferences(choice("stop", AT + 5), phone_number_id="999")
    body, headers = signed(other)
    assert channel.endpoint.handle(body, headers["X-Hub-Signature-256"]).status == 200
    assert register.status("16505551234")[MARKETING].state == OPTED_IN


def test_metas_template_opt_out_button_example_is_an_opt_out(examples):
    (message,) = parse_webhook(examples["Button Message"]).messages
    assert message.kind == "template_button" and consent_command(message).action == "opt_out"
