"""`python -m ops <command>`: the operators' commands find what `make run` started, unless told otherwise."""
import json

import ops.__main__ as ops_main
from console.api.keys import ApiKeys


def secrets(tmp_path, **values):
    path = tmp_path / "local-secrets.json"
    path.write_text(json.dumps({"REDIS_PASSWORD": "p/w", "RASA_TOKEN": "rasa-t", "WHATSAPP_ACCESS_TOKEN": "EMU-1",
                                "WHATSAPP_PHONE_NUMBER_ID": "100000000000001", **values}))
    return path


def test_beside_make_run_the_commands_use_its_embedded_redis_rasa_token_and_emulator(tmp_path):
    env = {}
    ops_main.local_environment(env, secrets(tmp_path))
    assert env["REDIS_URL"] == "redis://:p%2Fw@127.0.0.1:6390/0"
    assert env["RASA_TOKEN"] == "rasa-t" and env["RASA_URL"].startswith("http://127.0.0.1:")
    assert env["WHATSAPP_ACCESS_TOKEN"] == "EMU-1" and env["WHATSAPP_GRAPH_URL"].startswith("http://127.0.0.1:")


def test_what_the_environment_already_says_wins(tmp_path):
    env = {"REDIS_URL": "redis://prod:6379/0", "RASA_TOKEN": "prod-t", "WHATSAPP_ACCESS_TOKEN": "EAAG-real"}
    ops_main.local_environment(env, secrets(tmp_path))
    assert env["REDIS_URL"] == "redis://prod:6379/0" and env["RASA_TOKEN"] == "prod-t"
    assert env["WHATSAPP_ACCESS_TOKEN"] == "EAAG-real" and "WHATSAPP_GRAPH_URL" not in env
    nothing = {}
    ops_main.local_environment(nothing, tmp_path / "absent.json")
    assert nothing == {}


def test_a_command_runs_with_its_arguments_and_an_unknown_one_lists_them(redis_url, redis_client, capsys,
                                                                          monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert ops_main.main(["apikeys", "create", "shop"]) == 0
    assert ApiKeys(redis_client).authenticate(capsys.readouterr().out.splitlines()[-1]).name == "shop"
    assert ops_main.main(["sendall"]) == 1
    assert "alerts" in capsys.readouterr().out
