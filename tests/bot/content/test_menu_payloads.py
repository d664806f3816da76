"""Menu buttons survive Rasa's response templating: payloads come out in Rasa's `/intent{json}`
form and Rasa logs no slot-template error for them (it used to log ~10 per menu)."""
import json
import logging
from pathlib import Path

import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[3]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))
MENUS = [name for name, variations in DOMAIN.responses.items()
         if any("{" in b.get("payload", "") for v in variations for b in v.get("buttons") or [])]


def test_some_response_has_entity_payloads():
    assert "utter_main_menu" in MENUS


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("name", MENUS)
async def test_a_menu_send_logs_no_interpolator_error_and_keeps_rasa_payloads(name, language, caplog, capsys):
    tracker = DialogueStateTracker.from_events("34600", [], slots=DOMAIN.slots)
    tracker.slots["language"].value = language
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    with caplog.at_level(logging.DEBUG):
        response = await nlg.generate(name, tracker, "whatsapp")
    logged = caplog.text + capsys.readouterr().out
    assert "interpolator" not in logged
    for button in response["buttons"]:
        payload = button["payload"]
        if "{" in payload:
            intent, _, entities = payload.partition("{")
            assert intent.startswith("/") and json.loads("{" + entities), payload
