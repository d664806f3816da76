"""bot/launcher.py: what `make run` starts (no process is started here)."""
from ops.launcher import processes


def test_the_action_server_listens_only_where_bind_host_says():
    # rasa_sdk binds 0.0.0.0 unless SANIC_HOST is set; its /webhook has no authentication, so
    # anyone on the network could queue fake handoffs with texts agents would read.
    env = {"RASA_TOKEN": "t", "BIND_HOST": "127.0.0.1"}
    assert "SANIC_HOST=127.0.0.1 " in processes(env, emulator_mode=True)["actions"]
    env["BIND_HOST"] = "0.0.0.0"
    assert "SANIC_HOST=0.0.0.0 " in processes(env, emulator_mode=False)["actions"]


def test_rest_channel_only_in_emulator_mode():
    env = {"RASA_TOKEN": "t", "BIND_HOST": "127.0.0.1"}
    assert "--credentials credentials.local.yml " in processes(env, emulator_mode=True)["rasa"]
    assert "--credentials credentials.yml " in processes(env, emulator_mode=False)["rasa"]


def test_a_token_starting_with_a_dash_is_not_taken_for_an_option():
    env = {"RASA_TOKEN": "-abc", "BIND_HOST": "127.0.0.1"}
    assert "--auth-token=-abc " in processes(env, emulator_mode=True)["rasa"]
