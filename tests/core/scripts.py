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

# Scripts not made Cluster-safe yet, by file: the checks skip them. Empty it, don't grow it.
PENDING = {
    "bot/handoff/lua": "names agents' and conversations' keys inside Lua (lib.lua)",
}

# Commands whose first argument is not a key.
KEYLESS = {"PUBLISH", "TIME", "ECHO", "PING"}

_CALL = re.compile(r"redis\.p?call\(\s*(?P<cmd>[^,)]+?)\s*(?:,\s*(?P<first>[^,)]+?)\s*)?[,)]")
_LOCAL = re.compile(r"local\s+(?P<names>[\w\s,]+?)\s*=\s*(?P<exprs>[^\n]+)")
_FOR_KEYS = re.compile(r"for\s+\w+\s*,\s*(?P<name>\w+)\s+in\s+ipairs\(KEYS\)")


def _product_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix in (".py", ".lua") and "node_modules" not in path.parts:
                yield path


@lru_cache(maxsize=1)
def scripts() -> tuple[tuple[str, str], ...]:
    """(file relative to the root, Lua text) for every script: .lua files, and every string
    constant of a .py file that calls redis (fragments joined at run time are checked each)."""
    found = []
    for path in _product_files():
        rel = str(path.relative_to(ROOT))
        text = path.read_text()
        if path.suffix == ".lua":
            found.append((rel, text))
            continue
        if "redis.call(" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "redis.call(" in node.value:
                found.append((rel, node.value))
    return tuple(found)


def pending(rel: str) -> bool:
    return any(rel == p or rel.startswith(p + "/") for p in PENDING)


def built_keys(lua: str) -> list[str]:
    """The redis.call()s of a script whose key is not one of KEYS (so a cluster cannot route it)."""
    bound = {m["name"] for m in _FOR_KEYS.finditer(lua)}
    for m in _LOCAL.finditer(lua):
        names = [n.strip() for n in m["names"].split(",")]
        exprs = _split_top(m["exprs"])
        bound |= {n for n, e in zip(names, exprs) if re.fullmatch(r"KEYS\[[^\]]+\]", e.strip())}
    bad = []
    for m in _CALL.finditer(lua):
        cmd = m["cmd"].strip().strip("'\"").upper()
        first = (m["first"] or "").strip()
        if cmd in KEYLESS or not first:
            continue
        if not (re.fullmatch(r"KEYS\[[^\]]+\]", first) or first in bound):
            bad.append(m.group(0))
    return bad


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


def pending_fragments() -> list[str]:
    return [lua for rel, lua in scripts() if pending(rel)]
