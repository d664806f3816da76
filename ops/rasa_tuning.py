"""What the Rasa processes change in Rasa itself, measured first (issue 11's profile).

Rasa checks every action server answer with `jsonschema.validate`, which checks the schema
itself against JSON Schema's metaschema before each use: under load that was 24 % of the Rasa
process's CPU, more than NLU. The schema is a constant of Rasa's, so it is checked once here and
its validator kept; an answer it rejects goes to Rasa's own method, which raises the very error
(and message) it always did.
"""
from __future__ import annotations

import functools
from typing import Any, Dict, Text


def validate_action_results_once_checked() -> None:
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, "checked_once", False):
        return

    @functools.wraps(original)
    def validate(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        return _validator().is_valid(result) or original(self, result)

    validate.checked_once = True
    RemoteAction._validate_action_result = validate


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)
