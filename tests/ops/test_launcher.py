"""ops/launcher.py: what `make run` starts (no process is started here)."""
from pathlib import Path

from ops.launcher import processes
from tests.stack import Stack

SECRETS = {"RASA_TOKEN": "rasa-secret-Zq9", "ACTION_SERVER_TOKEN": "actions-secret-Xw4"}


def test_the_action_server_listens_only_where_bind_host_says():
    env = {**SECRETS, "BIND_HOST": "127.0.0.1"}
    assert "--interface 127.0.0.1 " in processes(env, emulator_mode=True)["actions"]
    env["BIND_HOST"] = "0.0.0.0"
    assert "--interface 0.0.0.0 " in processes(env, emulator_mode=False)["actions"]


def test_rest_channel_only_in_emulator_mode():
    env = {**SECRETS, "BIND_HOST": "127.0.0.1"}
    assert "--credentials credentials.local.yml " in processes(env, emulator_mode=True)["rasa"]
    assert "--credentials credentials.yml " in processes(env, emulator_mode=False)["rasa"]


def test_no_token_is_on_a_command_line_of_the_launcher_or_the_test_stack(tmp_path):
    # argv is readable by every local user (/proc/PID/cmdline, ps): tokens go by environment.
    commands = list(processes({**SECRETS, "BIND_HOST": "127.0.0.1"}, emulator_mode=True).values())
    stack = Stack("redis://127.0.0.1:1/0", Path("model.tar.gz"), tmp_path, extra_env=SECRETS)
    commands += [" ".join(argv) for argv in stack.commands().values()]
    for command in commands:
        for secret in SECRETS.values():
            assert secret not in command, command
