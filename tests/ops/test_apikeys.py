"""`python -m ops.apikeys`: a key is printed once, listed by name, and refused once revoked."""
from console.api.keys import ApiKeys
from ops.apikeys import main


def test_create_list_revoke(redis_client, capsys):
    keys = ApiKeys(redis_client)
    assert main(["create", "shop"], keys=keys) == 0
    key = capsys.readouterr().out.splitlines()[-1]
    assert keys.authenticate(key).name == "shop"
    assert key not in str(redis_client.hgetall("console:apiclient:shop"))  # only its hash is kept
    assert main(["list"], keys=keys) == 0 and "shop" in capsys.readouterr().out
    assert main(["revoke", "shop"], keys=keys) == 0 and keys.authenticate(key) is None
    assert main(["revoke", "shop"], keys=keys) == 1
    assert main(["create", "Bad Name"], keys=keys) == 1
