"""Every Redis Lua script of the product, and the two rules that let it run on Redis Cluster:
every key it touches comes in through KEYS (none built inside Lua), and all keys of one call
hash to one slot (checked on every call of the suite, tests/conftest.py)."""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

from redis.crc import key_slot

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("actions", "bench", "bot", "connector", "console", "core", "emulator", "ops")

# Commands whose first argument is not a key.
KEYLESS = {"PUBLISH", "TIME", "ECHO", "PING"}

_CALL = re.compile(r"redis\.p?call\(\s*(?P<cmd>[^,)]+?)\s*(?:,\s*(?P<first>[^,)]+?)\s*)?[,)]")
_LOCAL = re.compile(r"local\s+(?P<names>[\w\s,]+?)\s*=\s*(?P<exprs>[^\n]+)")
_FOR_KEYS = re.compile(r"for\s+\w+\s*,\s*(?P<name>\w+)\s+in\s+ipairs\(KEYS\)")
_TABLE = re.compile(r"local\s+(?P<table>\w+)\s*=\s*\{(\s*\w+\s*=\s*\{\}\s*,?)*\s*\}")
_ACCESSOR = re.compile(r"local\s+function\s+(?P<name>\w+)\(\w+\)\s+return\s+(?P<table>\w+)\.\w+\[\w+\]\s+or\s")


def _product_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix in (".py", ".lua") and "node_modules" not in path.parts:
                yield path


@lru_cache(maxsize=1)
def scripts() -> tuple[tuple[str, str], ...]:
    """(file relative to the root, Lua text) for every script: every string constant of a .py
    file that calls redis (fragments joined at run time are checked each), and the handoff's
    scripts as bot/handoff/ composes them (its .lua files are fragments of a generated prelude)."""
    from bot.handoff import _script_sources
    from bot.handoff.keys import KEYS as HANDOFF_KEYS

    found = [(f"bot/handoff/lua/{name}.lua", lua) for name, lua in _script_sources(HANDOFF_KEYS).items()]
    for path in _product_files():
        if path.suffix != ".py":
            continue
        text = path.read_text()
        if "redis.call(" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "redis.call(" in node.value:
                found.append((str(path.relative_to(ROOT)), node.value))
    return tuple(found)


def built_keys(lua: str) -> list[str]:
    """The redis.call()s of a script whose key is not one of KEYS (so a cluster cannot route it).
    A key is one of KEYS when it is KEYS[...], a local bound to one, or what an accessor returns:
    a function that only looks a key up in a table filled from KEYS (bot/handoff/keys.py)."""
    tables = {m["table"] for m in _TABLE.finditer(lua)}
    tables = {t for t in tables if all(_is_keys(value) for value in _fills(lua, t))}
    accessors = {m["name"] for m in _ACCESSOR.finditer(lua) if m["table"] in tables}

    def from_keys(expr: str) -> bool:
        expr = expr.strip()
        call = re.match(r"(\w+)\(", expr)  # the call's argument may be cut at its first comma
        return _is_keys(expr) or expr in bound or bool(call and call.group(1) in accessors)

    bound = {m["name"] for m in _FOR_KEYS.finditer(lua)}
    for m in _LOCAL.finditer(lua):
        names = [n.strip() for n in m["names"].split(",")]
        bound |= {n for n, e in zip(names, _split_top(m["exprs"])) if from_keys(e)}
    bad = []
    for m in _CALL.finditer(lua):
        cmd = m["cmd"].strip().strip("'\"").upper()
        first = (m["first"] or "").strip()
        if cmd in KEYLESS or not first:
            continue
        if not from_keys(first):
            bad.append(m.group(0))
    return bad


def _fills(lua: str, table: str) -> list[str]:
    """What is stored into `table` (at any depth): `table[a][b] = value`, `table.a[b] = value`."""
    values = []
    for m in re.finditer(rf"\b{table}(?:\.\w+)*\[", lua):
        at, depth = m.end() - 1, 0
        while at < len(lua):  # past the balanced brackets, however many follow
            depth += {"[": 1, "]": -1}.get(lua[at], 0)
            at += 1
            if depth == 0 and lua[at:at + 1] != "[":
                break
        rest = re.match(r"\s*=(?!=)\s*(?P<value>.+?)(?:\s+end)?\s*$", lua[at:].split("\n", 1)[0])
        if rest:
            values.append(rest["value"])
    return values


def _is_keys(expr: str) -> bool:
    return bool(re.fullmatch(r"KEYS\[[^\]]+\]", expr.strip()))


def _split_top(exprs: str) -> list[str]:
    """`a, KEYS[1 + 2 * i], b` split at the commas outside brackets."""
    parts, depth, current = [], 0, ""
    for char in exprs:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return parts + [current]


def slots(keys) -> set[int]:
    return {key_slot(key.encode() if isinstance(key, str) else key) for key in keys}
