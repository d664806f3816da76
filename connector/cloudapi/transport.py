"""The HTTP transport of the Cloud API sends: aiohttp's wire, httpx's answers and errors.

Why: under load the sends were the biggest share of a Rasa process's CPU, and httpx's own
transport (httpcore, anyio, h11) was most of it. CPU per POST to a local server on this
machine, in one run of `make bench-send`: 4.0 ms through httpx's client and transport, 1.2 ms
through `post_json`, 0.7 ms through aiohttp alone. aiohttp already ships with Rasa. Answers and
errors keep httpx's classes: the sender's no-duplicate rule is written in them, and its tests
give it Meta as an httpx.MockTransport (a client given to the sender is used instead of this).

Why not the httpx-aiohttp package: it needs aiohttp ≥ 3.10 (Rasa pins 3.9), and it maps every
aiohttp connection error to httpx.ConnectTimeout, which the sender retries as "never sent"; a
server that drops the connection after reading the request may have accepted the message.
Here the line between the two is exact: aiohttp reports when it writes the request's headers
(a trace signal), and an error before that is a request that never left this process.
"""
from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any, Mapping, Optional

import aiohttp
import httpx


async def _headers_sent(session: aiohttp.ClientSession, context: SimpleNamespace, params) -> None:
    context.trace_request_ctx.left = True


class AiohttpTransport:
    """POSTs through one aiohttp session, opened on first use (on the running event loop, which
    the session then belongs to)."""

    def __init__(self, connections: int = 100) -> None:
        self._connections = connections
        self._session: Optional[aiohttp.ClientSession] = None

    def _open(self) -> aiohttp.ClientSession:
        trace = aiohttp.TraceConfig()
        trace.on_request_headers_sent.append(_headers_sent)
        # httpx decodes the body from its headers, as it does over its own transport.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._connections),
            trace_configs=[trace], auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def post_json(self, url: str, body: Any, headers: Mapping[str, str],
                        timeout: httpx.Timeout) -> httpx.Response:
        """POST `body` as JSON: the same answer and the same errors as
        `httpx.AsyncClient.post(json=…)`, without httpx's client in between."""
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        request = httpx.Request("POST", url)  # what httpx's answers and errors refer to
        timeouts = timeout.as_dict()
        session = self._session or self._open()
        state = SimpleNamespace(left=False)
        try:
            async with session.post(
                url, headers={**headers, "Content-Type": "application/json"}, data=content,
                allow_redirects=False, trace_request_ctx=state,
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=_sum(timeouts.get("pool"), timeouts.get("connect")),
                    sock_connect=timeouts.get("connect"), sock_read=timeouts.get("read")),
            ) as answer:
                received = await answer.read()
        except asyncio.TimeoutError as exc:  # aiohttp's ServerTimeoutError is one
            raise (httpx.ReadTimeout if state.left else httpx.ConnectTimeout)(str(exc) or "timed out",
                                                                            request=request) from exc
        except aiohttp.InvalidURL as exc:
            raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
        except (aiohttp.ClientError, OSError) as exc:
            if not state.left:
                raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
            if isinstance(exc, aiohttp.ClientPayloadError):
                raise httpx.ReadError(str(exc), request=request) from exc
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
        return httpx.Response(answer.status, headers=list(answer.raw_headers), content=received, request=request)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _sum(*seconds: Optional[float]) -> Optional[float]:
    given = [s for s in seconds if s is not None]
    return sum(given) if given else None
