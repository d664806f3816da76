"""Test doubles for the outbound tests: a scripted Graph endpoint on httpx.MockTransport, a
clock-driven sleep, and the spec's InteractiveObject validator."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx

from core.clock import FixedClock
from connector.cloudapi.config import GraphTarget

CONFIG = GraphTarget("test-token", "123456789", api_version="v23.0", graph_url="http://graph.test")
MESSAGES_URL = "http://graph.test/v23.0/123456789/messages"


def graph_error(code: int, message: str = "error", status: int = 400, details: str = "") -> httpx.Response:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "trace"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return httpx.Response(status, json={"error": error})


class FakeGraph:
    """Answers each POST with the next scripted outcome (an httpx.Response, an exception to
    raise, or "ok"); after the script, every request is accepted. `accepted` lists the bodies a
    customer would actually receive."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.accepted: list[dict[str, Any]] = []
        self.transport = httpx.MockTransport(self._handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append({"url": str(request.url), "auth": request.headers.get("authorization"),
                              "body": body})
        outcome = self.script.pop(0) if self.script else "ok"
        if isinstance(outcome, Exception):
            if isinstance(outcome, httpx.ReadTimeout):
                self.accepted.append(body)  # Meta took it, the answer got lost
            raise outcome
        if isinstance(outcome, httpx.Response):
            return outcome
        if body.get("status") == "read":
            return httpx.Response(200, json={"success": True})
        self.accepted.append(body)
        wamid = f"wamid.TEST{len(self.accepted)}"
        return httpx.Response(200, json={"messaging_product": "whatsapp",
                                         "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                                         "messages": [{"id": wamid}]})


class Sleeper:
    """Replaces asyncio.sleep: records delays and moves the FixedClock on instead of waiting."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds=seconds)


def interactive_validator(shared_dir: Path):
    """A validator for the spec's InteractiveObject (OpenAPI 3.1), refs resolved in the spec."""
    import yaml
    from jsonschema import RefResolver
    from openapi_schema_validator import OAS31Validator

    path = shared_dir / "whatsapp" / "meta-business-messaging-api_v23.0.yaml"
    spec = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    schema = spec["components"]["schemas"]["InteractiveObject"]
    return OAS31Validator(schema, resolver=RefResolver.from_schema(spec))


NOON = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)
