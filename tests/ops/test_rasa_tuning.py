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


async def _requests_over(connections_seen, count):
    from rasa.utils.endpoints import EndpointConfig

    endpoint = EndpointConfig(connections_seen["url"], token="secret")
    return [await endpoint.request(json={"n": n}) for n in range(count)]


@pytest.fixture
async def action_server():
    """An aiohttp server that answers with what it got and counts the connections it accepted."""
    import socket

    from aiohttp import web

    seen = {"connections": set(), "tokens": []}

    async def webhook(request):
        seen["connections"].add(id(request.transport))
        seen["tokens"].append(request.query.get("token"))
        return web.json_response({"got": (await request.json())["n"]})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    seen["url"] = f"http://127.0.0.1:{port}/webhook"
    yield seen
    await runner.cleanup()


async def test_rasa_opens_a_connection_per_action_call_and_a_shared_session_reuses_one(action_server, monkeypatch):
    from rasa.utils.endpoints import EndpointConfig

    from ops.rasa_tuning import share_endpoint_sessions

    assert await _requests_over(action_server, 3) == [{"got": 0}, {"got": 1}, {"got": 2}]
    assert len(action_server["connections"]) == 3  # Rasa as it ships

    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    share_endpoint_sessions()
    share_endpoint_sessions()  # twice is once
    action_server["connections"].clear()
    assert await _requests_over(action_server, 3) == [{"got": 0}, {"got": 1}, {"got": 2}]
    assert len(action_server["connections"]) == 1
    assert action_server["tokens"] == ["secret"] * 6  # the token still goes with every call
    async with EndpointConfig(action_server["url"]).session() as session:
        await session.close()  # a caller that closes it gets a new one next time
    assert await _requests_over(action_server, 1) == [{"got": 0}]
