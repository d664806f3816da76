"""connector/cloudapi/transport.py against real local servers playing Meta: what arrives, what
comes back, and on which side of "the request left" each failure falls."""
import asyncio
import gzip
import socket

import httpx
import pytest
from aiohttp import web

from connector.cloudapi.config import GraphTarget
from connector.cloudapi.errors import NetworkError, UnknownOutcomeError
from connector.cloudapi.sender import CloudSender, RetryPolicy
from connector.cloudapi.transport import AiohttpTransport


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def meta():
    """A Graph stand-in on aiohttp's server: records each request, answers as Meta does."""
    seen = []

    async def messages(request: web.Request) -> web.Response:
        seen.append({"headers": dict(request.headers), "body": await request.json()})
        if request.query.get("gzip"):
            return web.Response(body=gzip.compress(b'{"messages": [{"id": "wamid.Z"}]}'),
                                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
        return web.json_response({"messages": [{"id": "wamid.A"}]}, status=200,
                                 headers={"X-Trace": "t1"})

    app = web.Application()
    app.router.add_post("/v23.0/1/messages", messages)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


@pytest.fixture
async def swallower():
    """Reads a whole request, then either hangs up or never answers."""
    state = {"mode": "hang_up", "requests": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")][0])
        await reader.readexactly(length)
        state["requests"] += 1
        if state["mode"] == "silent":
            await asyncio.sleep(30)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", state
    server.close()


@pytest.fixture
async def wire():
    transport = AiohttpTransport()
    yield transport
    await transport.aclose()


def _timeout(**given) -> httpx.Timeout:
    return httpx.Timeout(5.0, **given)


async def test_a_post_arrives_with_its_body_and_headers_and_the_answer_comes_back(meta, wire):
    url, seen = meta
    answer = await wire.post_json(f"{url}/v23.0/1/messages", {"to": "521", "text": {"body": "¡hola!"}},
                                  {"Authorization": "Bearer secret"}, _timeout())
    zipped = await wire.post_json(f"{url}/v23.0/1/messages?gzip=1", {"to": "521"}, {}, _timeout())
    assert answer.status_code == 200 and answer.json() == {"messages": [{"id": "wamid.A"}]}
    assert answer.is_success and answer.headers["x-trace"] == "t1"
    assert zipped.json() == {"messages": [{"id": "wamid.Z"}]}
    assert seen[0]["body"] == {"to": "521", "text": {"body": "¡hola!"}}
    assert seen[0]["headers"]["Authorization"] == "Bearer secret"
    assert seen[0]["headers"]["Content-Type"] == "application/json"


async def test_a_refused_connection_is_a_request_that_never_left(wire):
    with pytest.raises(httpx.ConnectError):
        await wire.post_json(f"http://127.0.0.1:{_free_port()}/x", {}, {}, _timeout())


@pytest.mark.parametrize("mode, error, timeouts", [
    ("hang_up", httpx.RemoteProtocolError, {}),  # dropped after reading: may have been accepted
    ("silent", httpx.ReadTimeout, {"read": 0.3}),  # no answer after the request
], ids=["dropped-after-the-request", "no-answer"])
async def test_a_failure_after_the_request_left_says_it_may_have_been_accepted(swallower, wire, mode, error,
                                                                                timeouts):
    url, state = swallower
    state["mode"] = mode
    with pytest.raises(error):
        await wire.post_json(f"{url}/x", {"to": "521"}, {}, _timeout(**timeouts))
    assert state["requests"] == 1


async def test_waiting_for_a_free_connection_too_long_is_a_timeout_before_sending(swallower):
    url, state = swallower
    state["mode"] = "silent"
    one = AiohttpTransport(connections=1)
    timeout = _timeout(pool=0.3, connect=0.0)
    try:
        busy = asyncio.ensure_future(one.post_json(f"{url}/x", {"n": 1}, {}, timeout))
        await asyncio.sleep(0.2)
        with pytest.raises(httpx.ConnectTimeout):
            await one.post_json(f"{url}/x", {"n": 2}, {}, timeout)
        busy.cancel()
    finally:
        await one.aclose()
    assert state["requests"] == 1


async def test_the_sender_retries_what_never_left_and_not_what_may_have_been_accepted(redis_client, swallower):
    """The no-duplicate rule over the real wire: a dropped connection after the request is an
    unknown outcome (sent once, not again); a refused connection is retried, then reported."""
    url, state = swallower
    sleeps = []

    async def no_wait(seconds):
        sleeps.append(seconds)

    def sender(graph_url):
        return CloudSender(GraphTarget("token", "1", api_version="v23.0", graph_url=graph_url), redis_client,
                           retry=RetryPolicy(attempts=3), sleep=no_wait)

    dropped = sender(url)
    with pytest.raises(UnknownOutcomeError):
        await dropped._post_with_retries({"messaging_product": "whatsapp", "to": "521", "type": "text",
                                          "text": {"body": "hola"}})
    await dropped.aclose()
    assert state["requests"] == 1

    refused = sender(f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(NetworkError):
        await refused._post_with_retries({"messaging_product": "whatsapp", "to": "521", "type": "text",
                                          "text": {"body": "hola"}})
    await refused.aclose()
    assert len(sleeps) == 2  # three attempts
