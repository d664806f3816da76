"""`python -m console create-user`."""
from __future__ import annotations

import io

from console.__main__ import main as cli
from console.auth.users import UserStore


def test_cli_creates_users(redis_url, redis_client, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert cli(["create-user", "pedro", "--role", "lead", "--generate"]) == 0
    out = capsys.readouterr().out
    password = out.split("Password: ")[1].strip()
    assert UserStore(redis_client).authenticate("pedro", password).role == "lead"
    assert cli(["create-user", "pedro", "--generate"]) == 1  # exists
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli(["create-user", "rosa", "--password-stdin"]) == 1  # too short
