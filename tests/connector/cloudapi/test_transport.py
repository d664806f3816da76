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


def _client(**timeouts) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=AiohttpTransport(), timeout=httpx.Timeout(5.0, **timeouts))


async def test_a_post_arrives_with_its_body_and_headers_and_the_answer_comes_back(meta):
    url, seen = meta
    async with _client() as client:
        answer = await client.post(f"{url}/v23.0/1/messages", json={"to": "521", "text": {"body": "¡hola!"}},
                                   headers={"Authorization": "Bearer secret"})
        zipped = await client.post(f"{url}/v23.0/1/messages?gzip=1", json={"to": "521"})
    assert answer.status_code == 200 and answer.json() == {"messages": [{"id": "wamid.A"}]}
    assert answer.headers["x-trace"] == "t1"
    assert zipped.json() == {"messages": [{"id": "wamid.Z"}]}
    assert seen[0]["body"] == {"to": "521", "text": {"body": "¡hola!"}}
    assert seen[0]["headers"]["Authorization"] == "Bearer secret"
    assert seen[0]["headers"]["Content-Type"] == "application/json"


async def test_post_json_sends_what_httpx_would_and_answers_alike(meta):
    url, seen = meta
    wire = AiohttpTransport()
    try:
        answer = await wire.post_json(f"{url}/v23.0/1/messages", {"to": "521", "text": {"body": "¡hola!"}},
                                      {"Authorization": "Bearer secret"}, httpx.Timeout(5.0))
    finally:
        await wire.aclose()
    assert answer.is_success and answer.json() == {"messages": [{"id": "wamid.A"}]}
    assert answer.headers["x-trace"] == "t1"
    assert seen[0]["body"] == {"to": "521", "text": {"body": "¡hola!"}}
    assert seen[0]["headers"]["Authorization"] == "Bearer secret"
    assert seen[0]["headers"]["Content-Type"] == "application/json"


async def test_a_refused_connection_is_a_request_that_never_left():
    async with _client() as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(f"http://127.0.0.1:{_free_port()}/x", json={})


@pytest.mark.parametrize("mode, error, timeouts", [
    ("hang_up", httpx.RemoteProtocolError, {}),  # dropped after reading: may have been accepted
    ("silent", httpx.ReadTimeout, {"read": 0.3}),  # no answer after the request
], ids=["dropped-after-the-request", "no-answer"])
async def test_a_failure_after_the_request_left_says_it_may_have_been_accepted(swallower, mode, error, timeouts):
    url, state = swallower
    state["mode"] = mode
    async with _client(**timeouts) as client:
        with pytest.raises(error):
            await client.post(f"{url}/x", json={"to": "521"})
    assert state["requests"] == 1


async def test_waiting_for_a_free_connection_too_long_is_a_timeout_before_sending(swallower):
    url, state = swallower
    state["mode"] = "silent"
    async with httpx.AsyncClient(transport=AiohttpTransport(connections=1),
                                 timeout=httpx.Timeout(5.0, pool=0.3, connect=0.0)) as client:
        busy = asyncio.ensure_future(client.post(f"{url}/x", json={"n": 1}))
        await asyncio.sleep(0.2)
        with pytest.raises(httpx.ConnectTimeout):
            await client.post(f"{url}/x", json={"n": 2})
        busy.cancel()
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
