import datetime as dt
import json
import logging
import socket
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from core.clock import FixedClock
from core.redis_conn import EmbeddedRedis, free_port, get_redis
from connector.policy.consent import OPTED_IN, TRANSACTIONAL, ConsentRegister
from connector.policy.templates import TemplateRegister
from connector.policy.tier import MessagingTier
from connector.policy.window import ServiceWindow
from connector.cloudapi import errors, messages
from connector.cloudapi.delivery import DeliveryLog
from connector.cloudapi.config import GraphTarget, WhatsAppConfig
from connector.cloudapi.pacing import PacingPolicy, ThroughputPolicy
from connector.cloudapi.sender import CloudSender, RetryPolicy
from tests.connector.fake_graph import CONFIG, MESSAGES_URL, NOON, FakeGraph, Sleeper, graph_error

CONV = "34600000001"


@pytest.fixture
def clock():
    return FixedClock(NOON)


@pytest.fixture
def sleeper(clock):
    return Sleeper(clock)


@pytest.fixture
def make_sender(redis_client, clock, sleeper):
    senders = []

    def make(graph=None, open_window=True, target=CONFIG, **options):
        options.setdefault("rng", lambda: 1.0)  # the top of each jitter range: deterministic
        http = graph.client() if graph else options.pop("http", None)
        sender = CloudSender(target, redis_client, clock, http, sleep=sleeper, **options)
        if open_window:
            ServiceWindow(redis_client, clock).record_inbound(CONV)
        senders.append(sender)
        return sender

    return make


def text(body="Hola"):
    return messages.text_bodies(CONV, body)[0]


def failures(redis_client, conv=CONV):
    return DeliveryLog(redis_client).failures(conv)


async def test_sends_with_bearer_token_and_returns_the_wamid(make_sender, redis_client):
    graph = FakeGraph()
    wamid = await make_sender(graph).send(CONV, text(), agent="ana")
    assert wamid == "wamid.TEST1"
    (request,) = graph.requests
    assert request["url"] == MESSAGES_URL and request["auth"] == "Bearer test-token"
    record = DeliveryLog(redis_client).get(wamid)
    assert record["conv"] == CONV and record["agent"] == "ana" and record["status"] == "accepted"
    assert record["body"]["text"]["body"] == "Hola"


def test_the_whatsapp_config_is_the_graph_target_and_hides_the_token():
    config = WhatsAppConfig.load(env={"WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_APP_SECRET": "s",
                                      "WHATSAPP_ACCESS_TOKEN": "secret-token", "WHATSAPP_PHONE_NUMBER_ID": "42",
                                      "WHATSAPP_GRAPH_URL": "http://127.0.0.1:5080/"})
    assert isinstance(config, GraphTarget)
    assert config.messages_url == "http://127.0.0.1:5080/v23.0/42/messages"
    target = GraphTarget("secret-token", "42", graph_url="http://127.0.0.1:5080")
    assert target.messages_url == config.messages_url
    assert "secret-token" not in repr(target) and "secret-token" not in repr(config)


async def test_free_form_refused_when_the_window_is_closed(make_sender, redis_client):
    graph = FakeGraph()
    sender = make_sender(graph, open_window=False)
    with pytest.raises(errors.WindowClosedError):
        await sender.send(CONV, text())
    assert graph.requests == []
    (failure,) = failures(redis_client)
    assert failure["kind"] == "refused" and failure["code"] == "window_closed"
    assert failure["body"]["text"]["body"] == "Hola"


def order_confirmation(to=CONV):
    return messages.template_body(to, "order_confirmation", "es_MX", [{"type": "body", "parameters": [
        {"type": "text", "text": "María"}, {"type": "text", "text": "A-1001"}, {"type": "text", "text": "$349.00"}]}])


@pytest.fixture
def registered(redis_client, clock):
    """The repository's templates, and a contact who opted in to transactional messages."""
    TemplateRegister(redis_client, clock).load_file()
    ConsentRegister(redis_client, clock).record(CONV, TRANSACTIONAL, OPTED_IN, "web_form")


async def test_templates_and_read_receipts_go_out_with_the_window_closed(make_sender, registered):
    graph = FakeGraph()
    sender = make_sender(graph, open_window=False)
    assert await sender.send(CONV, order_confirmation())
    assert await sender.mark_read("wamid.IN1") is True
    assert await sender.mark_read(messages.read_receipt_body("wamid.IN2", typing=False)) is True
    assert [r["body"].get("type") or r["body"]["status"] for r in graph.requests] == ["template", "read", "read"]


async def test_a_template_to_a_contact_who_never_opted_in_never_reaches_meta_and_is_recorded(
        make_sender, redis_client, clock):
    TemplateRegister(redis_client, clock).load_file()
    graph = FakeGraph()
    with pytest.raises(errors.NoConsentError, match="no opt-in"):
        await make_sender(graph, open_window=False).send(CONV, order_confirmation(), agent="ana")
    assert graph.requests == []
    (failure,) = failures(redis_client)
    assert failure["kind"] == "refused" and failure["code"] == "no_consent" and failure["agent"] == "ana"


async def test_a_tier_deferral_is_raised_with_its_time_and_left_to_the_caller_to_record(
        make_sender, registered, redis_client, clock):
    tier = MessagingTier(redis_client, clock)
    tier.set_tier("TIER_250", source="test")
    for n in range(250):
        assert tier.reserve(f"5215500{n:05d}").allowed
    graph = FakeGraph()
    with pytest.raises(errors.TierLimitError) as raised:
        await make_sender(graph, open_window=False).send(CONV, order_confirmation())
    assert raised.value.retry_at == clock.now() + dt.timedelta(hours=24)
    assert graph.requests == [] and failures(redis_client) == []


@pytest.mark.parametrize("failure", [
    graph_error(131000, "Something went wrong", status=500),
    httpx.Response(503, text="upstream unavailable"),
    httpx.Response(500, json={"error": {"message": "An unknown error occurred", "code": 1}}),
    graph_error(4, "Application request limit reached", status=429),
    httpx.Response(429, text="slow down"),
    graph_error(130429, "Rate limit hit"),
    graph_error(131056, "(Business Account, Consumer Account) pair rate limit hit"),
    graph_error(80007, "Rate limit issues"),
    httpx.ConnectError("connection refused"),
    httpx.ConnectTimeout("connect timed out"),
], ids=["131000", "503-bare", "code1", "4-429", "429-bare", "130429", "131056", "80007",
        "connect-error", "connect-timeout"])
async def test_retryable_failures_are_retried_without_duplicates(make_sender, sleeper, failure):
    graph = FakeGraph(failure)
    assert await make_sender(graph).send(CONV, text()) == "wamid.TEST1"
    assert len(graph.requests) == 2
    assert len(graph.accepted) == 1
    assert len(sleeper.delays) == 1


async def test_pair_rate_retry_waits_at_least_one_pacing_interval(make_sender, sleeper):
    graph = FakeGraph(graph_error(131056, "pair rate limit hit"))
    await make_sender(graph, rng=lambda: 0.0, pacing=PacingPolicy(interval=6.0)).send(CONV, text())
    assert sleeper.delays == [6.0]


async def test_retry_after_is_a_floor(make_sender, sleeper):
    graph = FakeGraph(httpx.Response(429, headers={"Retry-After": "7"}, text="later"))
    await make_sender(graph, rng=lambda: 0.0).send(CONV, text())
    assert sleeper.delays == [7.0]


async def test_backoff_is_exponential_capped_and_bounded(make_sender, sleeper, redis_client):
    graph = FakeGraph(*[graph_error(131000, status=500)] * 10)
    sender = make_sender(graph, retry=RetryPolicy(attempts=5, base_delay=1.0, max_delay=5.0))
    with pytest.raises(errors.ServerError) as caught:
        await sender.send(CONV, text())
    assert len(graph.requests) == 5 and graph.accepted == []
    assert sleeper.delays == [1.0, 2.0, 4.0, 5.0]
    assert "gave up after 5 attempts" in caught.value.detail
    (failure,) = failures(redis_client)
    assert failure["code"] == "131000" and failure["kind"] == "retries_exhausted"


async def test_full_jitter_uses_the_whole_range(make_sender, sleeper):
    graph = FakeGraph(graph_error(131000, status=500), graph_error(131000, status=500))
    await make_sender(graph, rng=lambda: 0.25, retry=RetryPolicy(base_delay=2.0)).send(CONV, text())
    assert sleeper.delays == [0.5, 1.0]


async def test_read_timeout_is_not_retried_and_is_recorded_as_unknown(make_sender, redis_client):
    graph = FakeGraph(httpx.ReadTimeout("no answer"))
    with pytest.raises(errors.UnknownOutcomeError):
        await make_sender(graph).send(CONV, text("¿Llegó?"))
    assert len(graph.requests) == 1 and len(graph.accepted) == 1  # the customer got it once
    (failure,) = failures(redis_client)
    assert failure["kind"] == "unknown_outcome" and failure["body"]["text"]["body"] == "¿Llegó?"


async def test_bare_gateway_timeout_is_an_unknown_outcome(make_sender):
    graph = FakeGraph(httpx.Response(504, text="Gateway Timeout"))
    with pytest.raises(errors.UnknownOutcomeError):
        await make_sender(graph).send(CONV, text())
    assert len(graph.requests) == 1


@pytest.mark.parametrize("code, cls", [
    (131047, errors.ReEngagementError),
    (131026, errors.UndeliverableError),
    (100, errors.InvalidRequestError),
    (190, errors.AuthError),
    (131051, errors.InvalidRequestError),
    (368, errors.BlockedError),
])
async def test_permanent_errors_are_recorded_with_the_body_and_raised(make_sender, redis_client, clock, code, cls):
    graph = FakeGraph(graph_error(code, "Meta says no", status=401 if code == 190 else 400, details="why"))
    sender = make_sender(graph)
    with pytest.raises(cls) as caught:
        await sender.send(CONV, text("Tu pedido"), agent="ana")
    assert caught.value.code == code and not caught.value.retryable
    assert len(graph.requests) == 1
    (failure,) = failures(redis_client)
    assert failure["code"] == str(code) and failure["title"] == "Meta says no" and failure["detail"] == "why"
    assert failure["agent"] == "ana" and failure["body"]["text"]["body"] == "Tu pedido"
    assert ServiceWindow(redis_client, clock).status(CONV).open is (code != 131047)


async def test_pacing_lets_a_burst_through_then_spaces_sends(make_sender, sleeper):
    graph = FakeGraph()
    sender = make_sender(graph, pacing=PacingPolicy(interval=6.0, burst=3, max_wait=60))
    for _ in range(3):
        await sender.send(CONV, text())
    assert sleeper.delays == []
    await sender.send(CONV, text())
    assert sleeper.delays == [6.0]
    await sender.send(CONV, text())
    assert sleeper.delays == [6.0, 6.0]
    sleeper.clock.advance(minutes=5)  # quiet time refills the burst
    for _ in range(3):
        await sender.send(CONV, text())
    assert sleeper.delays == [6.0, 6.0]


async def test_pacing_is_per_recipient_and_shared_through_redis(make_sender, sleeper, redis_client, clock):
    policy = PacingPolicy(interval=6.0, burst=1, max_wait=60)
    first, second = make_sender(FakeGraph(), pacing=policy), make_sender(FakeGraph(), pacing=policy)
    ServiceWindow(redis_client, clock).record_inbound("34600000002")
    await first.send(CONV, text())
    await second.send("34600000002", messages.text_bodies("34600000002", "hola")[0])
    assert sleeper.delays == []
    await second.send(CONV, text())  # another process, same recipient
    assert sleeper.delays == [6.0]
    assert redis_client.exists(f"wa:pace:{CONV}")


async def test_pacing_refuses_instead_of_queueing_forever(make_sender, redis_client, clock):
    graph = FakeGraph()
    sender = make_sender(graph, pacing=PacingPolicy(interval=6.0, burst=1, max_wait=10))
    sender._sleep = _no_sleep  # keep the clock still: every send reserves against the same moment
    await sender.send(CONV, text())  # now
    await sender.send(CONV, text())  # in 6 s
    with pytest.raises(errors.TooManyQueuedError):  # would be in 12 s > 10 s
        await sender.send(CONV, text())
    assert len(graph.requests) == 2
    assert failures(redis_client)[0]["code"] == "pacing"


async def _no_sleep(seconds):
    return None


async def test_read_receipt_is_retried_even_after_a_read_timeout(make_sender):
    graph = FakeGraph(httpx.ReadTimeout("lost"), graph_error(131000, status=500))
    assert await make_sender(graph, open_window=False).mark_read("wamid.IN") is True
    assert len(graph.requests) == 3


async def test_read_receipt_failure_is_only_logged(make_sender, redis_client):
    graph = FakeGraph(graph_error(100, "Invalid parameter"))
    assert await make_sender(graph).mark_read("wamid.BAD") is False
    assert failures(redis_client) == []


# --- a real socket: the emulator-like case ------------------------------------------------

class _SlowGraph(BaseHTTPRequestHandler):
    hits = 0
    delay = 0.0

    def do_POST(self):
        type(self).hits += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(self.delay)
        payload = json.dumps({"messaging_product": "whatsapp", "messages": [{"id": "wamid.REAL"}]}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def real_graph():
    handler = type("Handler", (_SlowGraph,), {"hits": 0, "delay": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_real_server_success_and_slow_answer(make_sender, real_graph, redis_client):
    handler, url = real_graph
    sender = make_sender(open_window=True, target=replace(CONFIG, graph_url=url), timeout=httpx.Timeout(0.3))
    assert await sender.send(CONV, text()) == "wamid.REAL"
    handler.delay = 1.0
    with pytest.raises(errors.UnknownOutcomeError):
        await sender.send(CONV, text())
    assert handler.hits == 2  # the slow one was sent once, not retried
    await sender.aclose()


async def test_real_connection_refused_is_retried_then_given_up(make_sender, sleeper):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    sender = make_sender(target=replace(CONFIG, graph_url=f"http://127.0.0.1:{port}"), retry=RetryPolicy(attempts=3))
    with pytest.raises(errors.NetworkError):
        await sender.send(CONV, text())
    assert len(sleeper.delays) == 2
    await sender.aclose()


# --- the 24 h window is checked again right before every attempt ----------------------------

def window_closing_in(redis_client, clock, seconds):
    """An inbound dated so that our window (24 h minus the safety margin) closes `seconds` from now."""
    from connector.policy.window import SAFETY_MARGIN, WINDOW

    last = clock.now() - WINDOW + SAFETY_MARGIN + dt.timedelta(seconds=seconds)
    ServiceWindow(redis_client, clock).record_inbound(CONV, at=last)


async def test_window_closing_during_the_pacing_wait_refuses_the_send(make_sender, redis_client, clock, sleeper):
    window_closing_in(redis_client, clock, 30)
    graph = FakeGraph()
    sender = make_sender(graph, open_window=False, pacing=PacingPolicy(interval=40.0, burst=1, max_wait=90))
    await sender.send(CONV, text("primero"))
    with pytest.raises(errors.WindowClosedError):
        await sender.send(CONV, text("segundo"))  # paced 40 s: the window closed meanwhile
    assert sleeper.delays == [40.0]
    assert [r["body"]["text"]["body"] for r in graph.requests] == ["primero"]
    (failure,) = failures(redis_client)
    assert failure["kind"] == "refused" and failure["code"] == "window_closed"
    assert failure["body"]["text"]["body"] == "segundo"


async def test_window_closing_during_a_retry_backoff_refuses_the_retry(make_sender, redis_client, clock, sleeper):
    window_closing_in(redis_client, clock, 30)
    graph = FakeGraph(graph_error(131000, "Something went wrong", status=500))
    sender = make_sender(graph, open_window=False, retry=RetryPolicy(base_delay=40.0, max_delay=40.0))
    with pytest.raises(errors.WindowClosedError):
        await sender.send(CONV, text())
    assert sleeper.delays == [40.0]
    assert len(graph.requests) == 1 and graph.accepted == []
    (failure,) = failures(redis_client)  # one refusal, not also a "retries exhausted"
    assert failure["kind"] == "refused" and failure["code"] == "window_closed"


async def test_a_window_closed_refusal_is_logged_as_a_warning_not_an_error(make_sender, caplog):
    sender = make_sender(FakeGraph(), open_window=False)
    with caplog.at_level(logging.INFO, logger="connector.cloudapi.sender"):
        with pytest.raises(errors.WindowClosedError):
            await sender.send(CONV, text())
    levels = [r.levelno for r in caplog.records if r.name == "connector.cloudapi.sender"]
    assert levels == [logging.WARNING]


# --- Redis goes away between Meta's answer and our delivery record ---------------------------

@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own, so it can be stopped and started again."""
    server = EmbeddedRedis(tmp_path / "redis", port=free_port())
    server.start()
    client = get_redis(server.url, socket_connect_timeout=1, socket_timeout=1)
    yield server, client
    client.close()
    server.stop()


class _RedisStopsOnPost(FakeGraph):
    """Meta accepts the message; the Redis server stops while the answer is on its way."""

    def __init__(self, server, *script):
        super().__init__(*script)
        self.server = server

    def _handle(self, request):
        self.server.stop()
        return super()._handle(request)


class _RedisBackOnSleep(Sleeper):
    """The sender's backoff: the first wait is as long as the Redis restart takes."""

    def __init__(self, clock, server):
        super().__init__(clock)
        self.server = server

    async def __call__(self, seconds):
        await super().__call__(seconds)
        if self.server.process is None:
            self.server.start()


async def test_redis_restart_while_recording_a_sent_message_returns_the_wamid_and_records_it(own_redis, clock):
    server, client = own_redis
    ServiceWindow(client, clock).record_inbound(CONV)
    graph = _RedisStopsOnPost(server)
    sender = CloudSender(CONFIG, client, clock, graph.client(), sleep=_RedisBackOnSleep(clock, server))
    wamid = await sender.send(CONV, text("una vez"), agent="ana")
    assert wamid == "wamid.TEST1" and len(graph.requests) == 1
    record = DeliveryLog(client, clock).get(wamid)
    assert record["conv"] == CONV and record["agent"] == "ana" and record["status"] == "accepted"


async def test_redis_down_for_good_after_meta_accepted_returns_the_wamid_and_logs_it(own_redis, clock, caplog):
    server, client = own_redis
    ServiceWindow(client, clock).record_inbound(CONV)
    graph = _RedisStopsOnPost(server)
    sleeper = Sleeper(clock)
    sender = CloudSender(CONFIG, client, clock, graph.client(), sleep=sleeper)
    with caplog.at_level(logging.ERROR, logger="connector.cloudapi.sender"):
        assert await sender.send(CONV, text()) == "wamid.TEST1"
    assert len(graph.requests) == 1
    assert sleeper.delays and sum(sleeper.delays) <= 30  # bounded: Redis restarts take seconds
    assert any("wamid.TEST1" in r.getMessage() and r.levelno >= logging.ERROR for r in caplog.records)


async def test_redis_down_after_a_send_that_may_have_arrived_raises_the_send_error_not_redis(own_redis, clock):
    # WhatsAppOutput absorbs SendErrors; a Redis error would abort the Rasa turn and resend.
    server, client = own_redis
    ServiceWindow(client, clock).record_inbound(CONV)
    graph = _RedisStopsOnPost(server, httpx.ReadTimeout("no answer"))
    sender = CloudSender(CONFIG, client, clock, graph.client(), sleep=_RedisBackOnSleep(clock, server))
    with pytest.raises(errors.UnknownOutcomeError):
        await sender.send(CONV, text("¿Llegó?"))
    assert len(graph.accepted) == 1
    (failure,) = DeliveryLog(client, clock).failures(CONV)
    assert failure["kind"] == "unknown_outcome" and failure["body"]["text"]["body"] == "¿Llegó?"


async def test_every_send_takes_the_numbers_throughput_slot_across_recipients_and_senders(
        make_sender, sleeper, redis_client, clock):
    slow = ThroughputPolicy(mps=2)  # burst 1, then one a second
    first, second = make_sender(FakeGraph(), throughput=slow), make_sender(FakeGraph(), throughput=slow)
    ServiceWindow(redis_client, clock).record_inbound("34600000002")
    await first.send(CONV, text())
    await second.send("34600000002", messages.text_bodies("34600000002", "hola")[0])
    assert sleeper.delays == [1.0]  # another recipient, another process: the same number
    assert redis_client.exists(f"wa:throughput:{CONFIG.phone_number_id}")
    await first.mark_read("wamid.IN1")  # a read receipt is not a message
    assert sleeper.delays == [1.0]


async def test_a_retry_is_a_message_too_and_waits_for_its_throughput_slot(make_sender, sleeper):
    graph = FakeGraph(graph_error(131000, "Something went wrong", status=500))
    sender = make_sender(graph, throughput=ThroughputPolicy(mps=2), retry=RetryPolicy(base_delay=0.25))
    await sender.send(CONV, text())
    # The backoff (0.25 s) and then the rest of the number's second before the second attempt.
    assert sleeper.delays == [0.25, 0.75] and len(graph.requests) == 2


async def test_throughput_refusal_is_recorded(make_sender, redis_client):
    graph = FakeGraph()
    sender = make_sender(graph, throughput=ThroughputPolicy(mps=2, max_wait=0.5))
    sender._sleep = _no_sleep
    await sender.send(CONV, text())
    with pytest.raises(errors.TooManyQueuedError):
        await sender.send(CONV, text())
    assert len(graph.requests) == 1 and failures(redis_client)[0]["code"] == "throughput"
