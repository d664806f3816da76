"""`python -m ops.profile check|show|sync` against the emulator."""
from __future__ import annotations

import shutil

from bot.content.catalog import ROOT
from bot.profile.sync import ProfileSync
from connector.cloudapi.profile import ProfileClient
from ops.profile import main
from tests.emulator.in_process import in_process_graph


def test_check_show_sync(tmp_path, redis_client, capsys):
    for name in ("business_profile.yml", "hours.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    paths = {"profile_file": tmp_path / "business_profile.yml", "hours_file": tmp_path / "hours.yml"}
    with in_process_graph() as graph:
        sync = ProfileSync(redis_client, ProfileClient(graph.target, graph.client), **paths)
        assert main(["check"], sync=sync) == 0
        out = capsys.readouterr().out
        assert "OK: within WhatsApp's limits" in out and "• Domingo: cerrado" in out
        assert graph.emulator.profile == {}  # check sends nothing

        assert main(["show"], sync=sync) == 0
        assert "Differs from the files: about, address, description" in capsys.readouterr().out
        assert main(["sync"], sync=sync) == 0
        assert capsys.readouterr().out.startswith("WhatsApp profile updated")
        assert main(["show"], sync=sync) == 0
        out = capsys.readouterr().out
        assert "Same as the files." in out and "Last sync:" in out

        paths["profile_file"].write_text(paths["profile_file"].read_text().replace("vertical: APPAREL", "vertical: SHOES"))
        assert main(["check"], sync=sync) == 1
        assert "business_profile.yml: vertical 'SHOES'" in capsys.readouterr().err
        assert main(["sync"], sync=sync) == 1
        assert "not updated" in capsys.readouterr().err
