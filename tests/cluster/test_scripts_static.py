"""The rules that let the product's Lua scripts run on Redis Cluster, checked on the source."""
from __future__ import annotations

from tests.core.scripts import built_keys, scripts, slots


def test_no_script_builds_a_key_inside_lua():
    found = scripts()
    assert len({rel for rel, _ in found}) >= 15  # the queue, policy, outreach, handoff, console, ...
    assert {rel: built_keys(lua) for rel, lua in found if built_keys(lua)} == {}


def test_the_checks_see_a_built_key_and_a_split_call():
    assert built_keys("redis.call('SET', ARGV[1] .. conv, 'x')")
    assert built_keys("redis.call('ZADD', 'out:due', 1, 'x')")
    assert not built_keys("local a, b = KEYS[1], KEYS[2 + 2 * i]\nredis.call('GET', b)\nredis.call('PUBLISH', 'c', 'm')")
    accessor = "local function a_key(id) return D.a[id] or error('undeclared') end\nredis.call('GET', a_key(x))"
    assert not built_keys("local D = {a = {}}\nD.a[string.sub(KEYS[i], 3)] = KEYS[i]\n" + accessor)
    assert built_keys("local D = {a = {}}\nD.a[id] = 'p:' .. id\n" + accessor)  # a table of built names
    assert len(slots(["wa:{wa3}:inbox:a", "wa:{wa3}:ready"])) == 1
    assert len(slots(["wa:inbox:a", "wa:ready"])) == 2
