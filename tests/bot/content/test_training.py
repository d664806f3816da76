"""When a training may trust Rasa's cache: decided by the code that filled the cache."""
from __future__ import annotations

import pytest

from bot.content import training
from tests.stack import ROOT


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_first_training_into_a_new_folder_trusts_a_cache_filled_by_the_same_code(cache):
    """The publish worker trains into var/publish/build, the launcher into models/: the worker's
    first publish must not retrain everything because its folder has no stamp yet."""
    current = training.fingerprint(ROOT)
    cache.mkdir()
    (cache / training.CACHE_CODE_STAMP).write_text(current["code"])
    assert not training.needs_full_training(ROOT, current)
    assert training.needs_full_training(ROOT, current, force=True)


def test_a_cache_of_unknown_origin_or_filled_by_other_code_is_not_trusted(cache):
    current = training.fingerprint(ROOT)
    assert training.needs_full_training(ROOT, current), "no record of what filled the cache"
    (cache / training.CACHE_CODE_STAMP).write_text("other code:3.6.21")
    assert training.needs_full_training(ROOT, current)
