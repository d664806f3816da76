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
