"""What the Rasa processes change in Rasa itself, measured first (issue 11's profile).

Rasa opens a new aiohttp session, so a new TCP connection, for every request to the action
server (`EndpointConfig.request`): twice the client's CPU per call (1.4 against 0.7 ms, measured
on this machine), a connection for the action server to accept each time, and a socket in
TIME_WAIT per call under load. `share_endpoint_sessions` gives each endpoint one session per
event loop instead, kept open for the life of the loop.

Rasa checks every action server answer with `jsonschema.validate`, which checks the schema
itself against JSON Schema's metaschema before each use: under load that was 24 % of the Rasa
process's CPU, more than NLU. The schema is a constant of Rasa's, so it is checked once here and
its validator kept; an answer it rejects goes to Rasa's own method, which raises the very error
(and message) it always did.
"""
from __future__ import annotations

import asyncio
import functools
import weakref
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


def share_endpoint_sessions() -> None:
    from rasa.utils.endpoints import EndpointConfig

    original = EndpointConfig.session
    if getattr(original, "shared", False):
        return
    # Per loop: a session belongs to the loop it was made on, and a loop's end frees its own.
    per_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = weakref.WeakKeyDictionary()

    @functools.wraps(original)
    def session(self: EndpointConfig) -> "_Kept":
        sessions = per_loop.setdefault(asyncio.get_running_loop(), {})
        key = (tuple(sorted((self.headers or {}).items())), tuple(sorted((self.basic_auth or {}).items())))
        kept = sessions.get(key)
        if kept is None or kept.closed:
            kept = sessions[key] = original(self)
        return _Kept(kept)

    session.shared = True
    EndpointConfig.session = session


class _Kept:
    """A shared session, as Rasa uses the one it makes (`async with endpoint.session() as s`),
    left open when the block ends."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)
