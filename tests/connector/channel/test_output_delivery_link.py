"""The output channel links each sent bot event (its timestamp, as the tracker keeps it) to the
wamids it became, so the console can show that message's ticks or failure on its own bubble."""
from rasa.shared.core.events import Event

from connector.cloudapi.delivery import DeliveryLog, event_key
from connector.cloudapi.errors import advice_for
from tests.connector.channel.test_output import CONV, clock, graph, make_output  # noqa: F401
from tests.connector.fake_graph import graph_error


def agent_event(text):
    return Event.from_parameters({"event": "bot", "text": text, "metadata": {"agent": "ana"}})


def status(wamid, name, errors=()):
    return {"id": wamid, "status": name, "timestamp": 1_767_614_400, "recipient_id": CONV,
            "errors": list(errors)}


async def test_ticks_of_each_agent_reply_follow_its_own_status_webhooks(make_output, redis_client):
    first, second = agent_event("Hola"), agent_event("¿Algo más?")
    output = make_output()
    await output.send_response(CONV, first.message())
    await output.send_response(CONV, second.message())
    log = DeliveryLog(redis_client)
    keys = [event_key(first.timestamp), event_key(second.timestamp)]
    assert {k: s.status for k, s in log.states(CONV, keys).items()} == dict.fromkeys(keys, "accepted")
    for name in ("sent", "delivered", "read"):
        log.record_status(status("wamid.TEST1", name))
    log.record_status(status("wamid.TEST2", "delivered"))
    states = log.states(CONV, keys)
    assert [states[k].status for k in keys] == ["read", "delivered"]


async def test_a_reply_meta_fails_later_with_131047_is_failed_with_the_advice(make_output, redis_client):
    event = agent_event("Te escribo por tu pedido")
    await make_output().send_response(CONV, event.message())
    log = DeliveryLog(redis_client)
    log.record_status(status("wamid.TEST1", "sent"))
    log.record_status(status("wamid.TEST1", "failed", [{"code": 131047, "title": "Re-engagement message"}]))
    state = log.states(CONV, [event_key(event.timestamp)])[event_key(event.timestamp)]
    assert (state.status, state.failure["code"]) == ("failed", 131047)
    assert state.advice == advice_for(131047) and "template" in state.advice


async def test_a_reply_refused_when_sent_is_failed_on_its_bubble(make_output, redis_client):
    event = agent_event("Hola otra vez")
    await make_output(open_window=False).send_response(CONV, event.message())
    state = DeliveryLog(redis_client).states(CONV, [event_key(event.timestamp)])[event_key(event.timestamp)]
    assert (state.status, state.failure["code"]) == ("failed", "window_closed")
    assert "template" in state.advice


async def test_a_permanent_graph_error_is_failed_on_its_bubble(redis_client, make_output, graph):
    graph.script.append(graph_error(131026, "Message undeliverable"))
    event = agent_event("¿Sigues ahí?")
    await make_output().send_response(CONV, event.message())
    state = DeliveryLog(redis_client).states(CONV, [event_key(event.timestamp)])[event_key(event.timestamp)]
    assert (state.status, state.failure["code"]) == ("failed", "131026")
    assert state.advice == advice_for(131026)


def test_unlinked_messages_have_no_state(redis_client):
    assert DeliveryLog(redis_client).states(CONV, ["1.5"]) == {}
