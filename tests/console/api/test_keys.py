"""API keys: a new key for a name replaces the old one; unknown and revoked keys are refused."""
from console.api.keys import ApiKeys


def test_a_new_key_replaces_the_old_and_revoking_refuses_it(redis_client):
    keys = ApiKeys(redis_client)
    old = keys.create("shop")
    new = keys.create("shop")
    assert keys.authenticate(old) is None and keys.authenticate(new).scope == "api:shop"
    assert keys.authenticate("alba_" + "x" * 43) is None and keys.authenticate("") is None
    assert keys.revoke("shop") and keys.authenticate(new) is None
    assert [c.name for c in keys.all()] == ["shop"] and not keys.all()[0].active
