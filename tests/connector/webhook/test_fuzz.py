"""Property-based fuzzing of the webhook intake (hypothesis), starting from Meta's own examples.

Each case is one of the webhook examples in ../shared/whatsapp/webhook_examples.json with its
first entry mutated (values replaced by other types, unicode with lone surrogates, over-long
text, numbers that overflow or leave datetime's range, deep nesting; fields removed, wrapped
or added), plus an untouched "canary" entry (a text message and a status) that must survive
whatever happens to its neighbour. Some cases break the body itself (cut short, not UTF-8, not
an object, NaN). Every body is signed with the app secret, so it reaches the parser.

Properties, for every body:
  * never a 5xx; a refusal is 400 with the reason ("invalid JSON: …" / "invalid payload: …");
  * a body that is still JSON with a list of entries is acknowledged (200), and its canary
    message is queued and its canary status recorded: a bad neighbour loses nothing;
  * everything queued reads back: `parse_envelope` on the stored envelope works, the item is
    strict JSON (no NaN/Infinity), valid UTF-8, and Redis's cjson decodes it (the queue's Lua
    scripts do).

The default run drives `WebhookEndpoint.handle` (everything after the HTTP body is read)
in-process against the real test Redis for FUZZ_EXAMPLES bodies (4,000), and FUZZ_EXAMPLES/50
(at least 200) through the real Sanic server over HTTP, workers included. For a longer run:

    FUZZ_EXAMPLES=100000 .venv/bin/python -m pytest -q tests/connector/webhook/test_fuzz.py

Reproducible: derandomize=True and no example database, so CI sees the same cases every time.
"""
from __future__ import annotations

import asyncio
import copy
import hashlib
import itertools
import json
import os
import threading
from typing import Any, NamedTuple

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from connector.inbox.queue import INBOX_PATTERN, seen_key
from connector.webhook import signature
from connector.webhook.inbound import parse_envelope

from tests.connector.conftest import SECRET, make_channel, serve, signed, text_webhook

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4000"))
HTTP_EXAMPLES = max(200, FUZZ_EXAMPLES // 50)


def _marker(name: str) -> str:
    return f"\x00{name}\x00"


# Raw JSON text a signed body can carry but json.dumps cannot write: each stands in the payload
# as a marker string, and the marker's JSON is replaced by the raw text after dumping.
RAW = {
    "1e400": "1e400", "-1e400": "-1e400", "1E-400": "1E-400", "-0": "-0", "1e18": "1e18",
    "20 digits": "99999999999999999999", "40 digits": "1" * 40, "-1e18": "-1000000000000000000",
    "deep 40": "[" * 40 + "]" * 40, "deep 300": '{"a":' * 300 + "1" + "}" * 300,
}
# ...and raw text that makes the whole body undecodable (a 400 is then the right answer).
BREAKS_JSON = {
    "NaN": "NaN", "Infinity": "Infinity", "5000 digits": "7" * 5000,
    "deep 5000": "[" * 5000 + "]" * 5000,
}
MARKERS = {**RAW, **BREAKS_JSON}

# The values mutations put in: a table of what breaks parsers and type checks, plus text that
# hypothesis makes up.
NASTY = [
    None, True, False, 0, -1, 2 ** 63, 2 ** 70, -(2 ** 70), 1.5, -0.0, 1e308, 5e-324,
    *(_marker(name) for name in sorted(MARKERS)),
    "", " ", "0", "-1", "1750000000", "1e400", "99999999999999999999", "NaN", "wamid." + "x" * 300,
    "\ud800", "a\udfffb", "\udbff\udc00", "\udc00\ud800", "\ud800" * 3 + "é",
    "é", "😀", "\u200f\u202e", "\x00", "\ufeff", "ñ" * 4097, "x" * 50_000,
    "text", "interactive", "button", "system", "image", "unsupported", "reaction", "order",
    "button_reply", "list_reply", "user_changed_number", "group",
    [], {}, [None], {"": None}, {"body": "\ud800"}, [[[[]]]], {"id": 1}, {"type": "text"},
    ["a", 1, None], {"id": "wamid.x", "title": "\udfff"}, {"\ud800": "k"},
]
HYPOTHESIS_TEXT = len(NASTY)  # the value slot filled with text hypothesis makes up
OPS = ["replace", "replace", "replace", "delete", "wrap", "as text", "add"]
BREAKAGES = ["none"] * 8 + ["cut", "not an object", "entry not a list", "bad byte"]
# Each of hypothesis's draws costs about as much as the handler's Redis round trips, so a case
# is a batch of BATCH bodies drawn as one byte string (16 bytes a body, hashed into a recipe:
# hypothesis's integers repeat too often to seed 10,000 different bodies) plus one text for
# the batch. A failure shrinks the other bodies' bytes to zeros, leaving the one that fails.
BATCH = 10
SEED_BYTES = 16
batches = st.tuples(st.binary(min_size=BATCH * SEED_BYTES, max_size=BATCH * SEED_BYTES), st.text(max_size=8))


def seeds(batch: tuple) -> list[bytes]:
    data, _ = batch
    return [data[i:i + SEED_BYTES] for i in range(0, len(data), SEED_BYTES)]


def recipe(seed: bytes, names: list[str], text: str) -> tuple:
    """(example name, [(node, op, value)], ASCII-only JSON, breakage, position) from 16 bytes."""
    seed = int.from_bytes(hashlib.blake2b(seed, digest_size=32).digest(), "big")
    seed, name = divmod(seed, len(names))
    seed, count = divmod(seed, 3)
    changes = []
    for _ in range(count + 1):
        seed, where = divmod(seed, 2 ** 16)
        seed, op = divmod(seed, len(OPS))
        seed, slot = divmod(seed, len(NASTY) + 1)
        changes.append((where, OPS[op], text if slot == HYPOTHESIS_TEXT else NASTY[slot]))
    seed, ascii_only = divmod(seed, 2)
    seed, breakage = divmod(seed, len(BREAKAGES))
    return names[name], changes, bool(ascii_only), BREAKAGES[breakage], seed


def _paths(node: Any, prefix: tuple) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, prefix + (key,)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_paths(value, prefix + (i,)))
    return out


def _mutate(payload: dict, path: tuple, op: str, value: Any) -> None:
    *parent_path, last = path
    parent = payload
    for step in parent_path:
        parent = parent[step]
    if op == "replace":
        parent[last] = value
    elif op == "delete":
        del parent[last]
    elif op == "wrap":
        parent[last] = [parent[last]]
    elif op == "as text":
        parent[last] = json.dumps(parent[last], ensure_ascii=False)
    elif op == "add" and isinstance(parent[last], dict):
        parent[last]["extra"] = value


class Body(NamedTuple):
    body: bytes
    must_accept: bool   # still JSON with a list of entries: the canary must get through
    canary: str         # wamid of the untouched text message
    canary_conv: str    # its sender's conversation
    canary_status: str  # wamid of the untouched status


def build(examples: dict, how: tuple, n: int) -> Body:
    name, changes, ascii_only, breakage, position = how
    payload = copy.deepcopy(examples[name])
    root = ("entry", 0)
    for where, op, value in changes:
        paths = _paths(payload["entry"][0], root)
        path = paths[where % len(paths)]
        _mutate(payload, path, "replace" if (op, path) == ("delete", root) else op, copy.deepcopy(value))
    canary = text_webhook(f"3499{n}", f"wamid.canary.{n}", "hola")["entry"][0]
    canary["changes"][0]["value"]["statuses"] = [
        {"id": f"wamid.out.{n}", "status": "read", "timestamp": "1750000001", "recipient_id": f"3499{n}"}]
    payload["entry"].append(canary)
    text = json.dumps(payload, ensure_ascii=ascii_only)
    must_accept = breakage == "none"
    for marker, raw in MARKERS.items():
        quoted = json.dumps(_marker(marker))
        if quoted in text:
            must_accept = must_accept and marker not in BREAKS_JSON
            text = text.replace(quoted, raw)
    # Lone surrogates written raw (not as \u escapes) are not UTF-8: the body is not JSON.
    body = text.encode("utf-8", "surrogatepass")
    must_accept = must_accept and body == text.encode("utf-8", "replace")
    if breakage == "cut":
        body = body[: position % len(body)]
    elif breakage == "not an object":
        body = b"[" + body + b"]"
    elif breakage == "entry not a list":
        body = body.replace(b'"entry": [', b'"entry": {"x": [', 1)[:-1] + b"}}"
    elif breakage == "bad byte":
        at = position % (len(body) + 1)
        body = body[:at] + b"\xff" + body[at:]
    return Body(body, must_accept, f"wamid.canary.{n}", f"3499{n}", f"wamid.out.{n}")


_canaries = itertools.count()


def _check_answer(status: int, reason: str, body_ok: bool) -> None:
    assert status in (200, 400), (status, reason)
    if status == 400:
        kind, _, detail = reason.partition(": ")
        assert kind in ("invalid JSON", "invalid payload") and detail, reason
    if body_ok:
        assert status == 200, reason


# One round trip after each body: every queued item, cjson-decoded by Redis itself (a failure
# is an error reply), the canary message's queue state and its status's read time; then, for
# the in-process run, a clean database so the next body's wamids are new again.
_AFTER = """
local items = {}
for _, key in ipairs(redis.call('KEYS', ARGV[2])) do
  for _, item in ipairs(redis.call('LRANGE', key, 0, -1)) do
    local ok, decoded = pcall(cjson.decode, item)
    if not ok or type(decoded) ~= 'table' then
      return redis.error_reply('cjson cannot decode ' .. string.sub(item, 1, 200))
    end
    table.insert(items, item)
  end
end
local result = {redis.call('GET', KEYS[1]) or '', redis.call('HGET', KEYS[2], 'read_at') or '', items}
if ARGV[1] == 'flush' then redis.call('FLUSHDB') end
return result
"""


def _strict(constant: str):
    raise AssertionError(f"{constant} in a queued item")


def _after(redis_client, canary: str, canary_conv: str, canary_status: str, flush: bool) -> tuple[str, str]:
    """(canary state, canary status read_at), having checked that every queued item reads back."""
    state, read_at, items = redis_client.eval(  # decode_responses: invalid UTF-8 raises here
        _AFTER, 2, seen_key(canary_conv, canary), f"wa:out:{canary_status}", "flush" if flush else "", INBOX_PATTERN)
    for item in items:
        parse_envelope(json.loads(item, parse_constant=_strict)["envelope"])
    return state, read_at


FUZZ = settings(
    max_examples=FUZZ_EXAMPLES, derandomize=True, database=None, deadline=None,
    suppress_health_check=list(HealthCheck),
)


def test_fuzzed_signed_bodies_in_process(examples, config, redis_client, recorder):
    channel = make_channel(config, redis_client, recorder)
    names, answers = sorted(examples), []

    @settings(FUZZ, max_examples=FUZZ_EXAMPLES // BATCH)
    @given(batches)
    def run(batch):
        for seed in seeds(batch):
            case = build(examples, recipe(seed, names, batch[1]), next(_canaries))
            answer = channel.endpoint.handle(case.body, signature.sign(case.body, SECRET))
            answers.append(answer.status)
            _check_answer(answer.status, answer.reason, case.must_accept)
            state, read_at = _after(redis_client, case.canary, case.canary_conv, case.canary_status, flush=True)
            if answer.status == 200 and case.must_accept:
                assert (state, read_at) == ("q", "1750000001")

    redis_client.flushdb()
    run()
    assert len(answers) >= FUZZ_EXAMPLES
    # The mutations must exercise both answers, or the properties prove little.
    assert answers.count(200) > FUZZ_EXAMPLES // 2 and answers.count(400) > FUZZ_EXAMPLES // 20


def test_fuzzed_signed_bodies_over_http(examples, config, redis_client, recorder):
    channel = make_channel(config, redis_client, recorder)
    ready, stop = threading.Event(), None
    port: list[int] = []

    async def server():
        nonlocal stop
        stop = asyncio.Event()
        async with serve(channel, recorder) as client:
            port.append(client.base_url.port)
            ready.set()
            await stop.wait()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    names, accepted = sorted(examples), []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port[0]}/webhooks/whatsapp", timeout=10) as http:
            @settings(FUZZ, max_examples=HTTP_EXAMPLES // BATCH)
            @given(batches)
            def run(batch):
                for seed in seeds(batch):
                    case = build(examples, recipe(seed, names, batch[1]), next(_canaries))
                    r = http.post("/webhook", content=case.body, headers=signed(case.body)[1])
                    _check_answer(r.status_code, r.text, case.must_accept)
                    state, read_at = _after(redis_client, case.canary, case.canary_conv, case.canary_status, flush=False)
                    if r.status_code == 200 and case.must_accept:
                        # Queued, and maybe already taken by a worker: in any case not lost.
                        assert state in ("q", "s", "d") and read_at == "1750000001"
                        accepted.append(case.canary)

            run()
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
    assert len(accepted) > HTTP_EXAMPLES // 2
