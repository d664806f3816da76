"""bench/durability_bench.py runs end to end on a few webhooks (its figures are not judged here:
benchmarks print, tests never time)."""
from bench import durability_bench
from core.redis_conn import APPENDFSYNC_MODES


def test_the_durability_bench_stores_every_webhook_under_both_settings_and_prints_a_row_each(tmp_path):
    # The bench raises if the real handler answers anything but 200 with the message queued.
    figures = durability_bench.bench(messages=20, rounds=2, threads=2, var=tmp_path / "var")
    assert set(figures["modes"]) == set(APPENDFSYNC_MODES)
    for mode in APPENDFSYNC_MODES:
        assert figures["modes"][mode]["ingest"]["per_s"] > 0
        assert figures["modes"][mode]["raw_set"]["per_s"] > 0
    printed = durability_bench.table(figures)
    assert all(f"| {mode} |" in printed for mode in APPENDFSYNC_MODES)
    assert not list((tmp_path / "var").glob("durability-*")), "the bench leaves its Redis data behind"
