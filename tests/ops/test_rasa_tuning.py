"""ops/rasa_tuning.py: Rasa's action-answer check, with its schema checked once, judges as before."""
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from ops.rasa_tuning import validate_action_results_once_checked

ANSWERS = [
    {"events": [{"event": "slot", "name": "language", "value": "es"}], "responses": [{"text": "hola"}]},
    {"events": [], "responses": []},
    {},
]
WRONG = [{"events": "not a list"}, {"events": [{"name": "no event key"}]}, {"responses": [{"text": 5}]}]


@pytest.fixture
def tuned(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    reference = RemoteAction._validate_action_result
    validate_action_results_once_checked()
    validate_action_results_once_checked()  # twice is once
    assert RemoteAction._validate_action_result.__wrapped__ is reference
    return RemoteAction("action_answer_faq", None), reference


@pytest.mark.parametrize("answer", ANSWERS + WRONG)
def test_the_checked_once_validator_accepts_and_refuses_what_rasa_does(tuned, answer):
    action, reference = tuned
    try:
        expected = reference(action, answer)
    except ValidationError as error:
        with pytest.raises(ValidationError) as raised:
            action._validate_action_result(answer)
        assert raised.value.message == error.message and "Action server response" in error.message
    else:
        assert expected is True and action._validate_action_result(answer) is True
