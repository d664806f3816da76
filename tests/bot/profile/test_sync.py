"""Syncing the profile: what was sent is remembered, a change of either file shows as out of
date, and a failure is recorded with its reason until a sync succeeds; sync() never raises."""
from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

from bot.content.catalog import ROOT
from bot.profile.sync import ProfileSync
from connector.cloudapi.profile import ProfileClient
from core.clock import FixedClock
from tests.emulator.in_process import in_process_graph

CLOCK = FixedClock(dt.datetime(2026, 3, 2, 18, tzinfo=dt.timezone.utc))


def files(tmp_path):
    for name in ("business_profile.yml", "hours.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return {"profile_file": tmp_path / "business_profile.yml", "hours_file": tmp_path / "hours.yml"}


def test_sync_state_follows_the_files_and_keeps_a_failure_until_a_success(tmp_path, redis_client):
    paths = files(tmp_path)
    with in_process_graph() as graph:
        sync = ProfileSync(redis_client, ProfileClient(graph.target, graph.client), clock=CLOCK, **paths)
        assert not sync.state().up_to_date and sync.state().synced_at is None

        assert sync.sync().ok
        assert sync.state().up_to_date and sync.state().synced_at == CLOCK.now()
        assert "• Sábado: 10:00–15:00" in graph.emulator.profile["description"]

        # The hours change: out of date until synced again, and the profile then says the new hours.
        hours = paths["hours_file"]
        hours.write_text(hours.read_text().replace('saturday:  ["10:00-15:00"]', 'saturday:  ["11:00-13:00"]'))
        assert not sync.state().up_to_date

        broken = ProfileSync(redis_client, ProfileClient(dataclasses.replace(graph.target, access_token="x"),
                                                         graph.client), clock=CLOCK, **paths)
        result = broken.sync()
        assert not result.ok and "Invalid OAuth access token" in result.message
        state = sync.state()
        assert not state.up_to_date and "Invalid OAuth access token" in state.error and state.error_at

        assert sync.sync().ok
        state = sync.state()
        assert state.up_to_date and state.error is None
        assert "• Sábado: 11:00–13:00" in graph.emulator.profile["description"]


def test_a_bad_file_or_missing_settings_is_a_recorded_failure_not_an_exception(tmp_path, redis_client):
    paths = files(tmp_path)
    unconfigured = ProfileSync.from_env(redis_client, env={}, clock=CLOCK, **paths)
    result = unconfigured.sync()
    assert not result.ok and "WHATSAPP_VERIFY_TOKEN is not set" in result.message

    paths["profile_file"].write_text("about: \"\"\n")
    state = unconfigured.state()
    assert state.version is None and any("description is required" in p for p in state.problems)
    assert "description is required" in unconfigured.sync().message
