"""HoursFile: a running process sees a saved hours.yml without a restart."""
from __future__ import annotations

import os

import pytest

from bot.hours import HoursConfigError
from bot.hours.source import HoursFile

MONDAY = 'timezone: UTC\nweekly:\n  monday: ["09:00-10:00"]\n'
TUESDAY = 'timezone: UTC\nweekly:\n  tuesday: ["09:00-10:00"]\n'


def test_a_changed_file_is_read_again_and_an_unchanged_one_is_not(tmp_path):
    path = tmp_path / "hours.yml"
    path.write_text(MONDAY)
    source = HoursFile(path)
    first = source.current()
    assert source.current() is first  # not parsed again
    tmp = tmp_path / "new.yml"
    tmp.write_text(TUESDAY)
    stat = path.stat()
    os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime and size: the inode tells
    os.replace(tmp, path)
    assert source.current().weekly[1] and not source.current().weekly[0]


def test_a_file_broken_after_a_good_read_keeps_the_good_schedule(tmp_path):
    path = tmp_path / "hours.yml"
    path.write_text(MONDAY)
    source = HoursFile(path)
    assert source.current().weekly[0]
    path.write_text("timezone: UTC\nweekly:\n  monday: [\"25:00-26:00\"]\n")
    assert source.current().weekly[0]
    path.write_text(TUESDAY)
    assert source.current().weekly[1]


def test_a_file_broken_from_the_start_is_an_error(tmp_path):
    path = tmp_path / "hours.yml"
    path.write_text("timezone: Nowhere/Atlantis\n")
    with pytest.raises(HoursConfigError, match="unknown time zone"):
        HoursFile(path).current()
    with pytest.raises(HoursConfigError, match="not found"):
        HoursFile(tmp_path / "missing.yml").current()
