"""The rules that let the product's Lua scripts run on Redis Cluster, checked on the source."""
from __future__ import annotations

from pathlib import Path

from tests.core.scripts import PENDING, ROOT, built_keys, pending, scripts, slots


def test_no_script_builds_a_key_inside_lua():
    bad = {rel: built_keys(lua) for rel, lua in scripts() if not pending(rel) and built_keys(lua)}
    assert bad == {}


def test_the_pending_list_names_only_what_still_needs_it():
    for rel in PENDING:
        assert (ROOT / rel).exists(), rel
    # A file made safe leaves the list: every entry still has a script with a built key, or is
    # one whose calls have not been run on the cluster yet (then it says so).
    stale = [rel for rel, why in PENDING.items() if why.startswith("names")
             and not any(built_keys(lua) for r, lua in scripts() if r == rel or r.startswith(rel + "/"))]
    assert stale == []


def test_the_checks_see_a_built_key_and_a_split_call():
    assert built_keys("redis.call('SET', ARGV[1] .. conv, 'x')")
    assert built_keys("redis.call('ZADD', 'out:due', 1, 'x')")
    assert not built_keys("local a, b = KEYS[1], KEYS[2 + 2 * i]\nredis.call('GET', b)\nredis.call('PUBLISH', 'c', 'm')")
    assert len(slots(["wa:{wa3}:inbox:a", "wa:{wa3}:ready"])) == 1
    assert len(slots(["wa:inbox:a", "wa:ready"])) == 2
    assert Path(ROOT, "connector/inbox/queue.py").exists()
