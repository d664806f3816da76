"""The running processes (tests/stack.py starts them as `make run` does) keep their secrets off argv."""
from pathlib import Path


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_no_running_process_has_a_token_in_its_cmdline(stack):
    secrets = [stack.env["RASA_TOKEN"], stack.env["ACTION_SERVER_TOKEN"], stack.env["WHATSAPP_APP_SECRET"],
               stack.env["WHATSAPP_ACCESS_TOKEN"]]
    for name, proc in stack.procs.items():
        cmdline = _cmdline(proc.pid)
        assert cmdline.strip(), name
        for secret in secrets:
            assert secret not in cmdline, f"{name}: {cmdline}"


def test_a_stack_that_fails_to_start_leaves_no_process_running(tmp_path):
    """The emulator comes up, the publisher cannot (no Redis there): the start fails, and the
    emulator must not keep running, unowned, for the rest of the session."""
    import pytest
    from redis.exceptions import ConnectionError as RedisDown

    from core.redis_conn import free_port
    from tests.stack import Stack

    stack = Stack(f"redis://127.0.0.1:{free_port()}/0", None, tmp_path)
    # The wait for the publisher's heartbeat finds Redis down, or the publisher already gone.
    with pytest.raises((RuntimeError, RedisDown)):
        stack.start(only=("emulator", "publisher"))
    assert {name: proc.poll() is not None for name, proc in stack.procs.items()} == {
        "emulator": True, "publisher": True}
