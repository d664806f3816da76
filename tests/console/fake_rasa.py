"""A stand-in for Rasa's HTTP API: serves trackers and records every request the console makes."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

TRACKER_PREFIX = "/conversations/"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    body: object


@dataclass
class FakeRasa:
    token: str = "rasa-test-token"
    events: dict = field(default_factory=dict)       # conv -> list of tracker events
    slots: dict = field(default_factory=dict)        # conv -> the tracker's slots
    requests: list = field(default_factory=list)
    fail_posts: bool = False
    server: ThreadingHTTPServer | None = None
    clock: object = None  # stamps events with the test's clock when given

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, conv: str, *events: dict) -> None:
        stamped = []
        for e in events:
            now = self.clock.now().timestamp() if self.clock else time.time()
            stamped.append({"timestamp": now, **e})
        self.events.setdefault(conv, []).extend(stamped)

    def posts(self, conv: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"
                and (conv is None or r.path == f"{TRACKER_PREFIX}{conv}/tracker/events")]

    def start(self) -> "FakeRasa":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _reply(self, status: int, payload) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _parse(self, body=None) -> tuple[str, dict]:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                path = unquote(parts.path)
                fake.requests.append(Recorded(self.command, path, query, body))
                return path, query

            def do_GET(self):
                path, query = self._parse()
                if query.get("token") != fake.token:
                    return self._reply(401, {"message": "bad token"})
                if path.startswith(TRACKER_PREFIX) and path.endswith("/tracker"):
                    conv = path[len(TRACKER_PREFIX):-len("/tracker")]
                    return self._reply(200, {"sender_id": conv, "slots": fake.slots.get(conv, {}), "events": fake.events.get(conv, [])})
                self._reply(404, {"message": "not found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                path, query = self._parse(body)
                if query.get("token") != fake.token:
                    return self._reply(401, {"message": "bad token"})
                if fake.fail_posts:
                    return self._reply(500, {"message": "ConversationError"})
                if path.startswith(TRACKER_PREFIX) and path.endswith("/tracker/events"):
                    conv = path[len(TRACKER_PREFIX):-len("/tracker/events")]
                    fake.add(conv, *(body if isinstance(body, list) else [body]))
                    return self._reply(200, {"sender_id": conv})
                self._reply(404, {"message": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
