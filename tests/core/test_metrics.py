"""core/metrics.py: the access token, and one scrape summing several processes' counters."""
from __future__ import annotations

import os
import subprocess
import sys

from core.metrics import MULTIPROC_ENV, TOKEN_ENV, scrape
from tests.prometheus import value

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_token_is_enforced_when_set():
    env = {TOKEN_ENV: "s3cret-scrape"}
    assert scrape(None, env=env).status == 401
    assert scrape("Bearer wrong", env=env).status == 401
    assert scrape("Basic s3cret-scrape", env=env).status == 401
    refused = scrape(None, env=env)
    assert refused.headers["WWW-Authenticate"].startswith("Bearer") and b"s3cret" not in refused.body
    assert scrape("Bearer s3cret-scrape", env=env).status == 200
    assert scrape(None, env={}).status == 200  # no token: open, for an internal network


def test_one_scrape_sums_the_counters_of_every_process(tmp_path):
    """Two processes (as two Rasa workers) count into one PROMETHEUS_MULTIPROC_DIR; a scrape in
    a third gives the total, the counts of a process that has exited included."""
    env = {**os.environ, MULTIPROC_ENV: str(tmp_path), "PYTHONPATH": ROOT}
    code = ("import sys; from connector.inbox.pool import DEAD_LETTERS, TURN_SECONDS\n"
            "DEAD_LETTERS.inc(int(sys.argv[1])); TURN_SECONDS.labels('answered').observe(0.2)")
    workers = [subprocess.Popen([sys.executable, "-c", code, str(n)], env=env) for n in (2, 3)]
    assert [w.wait(timeout=60) for w in workers] == [0, 0]
    text = scrape(None, env={MULTIPROC_ENV: str(tmp_path)}).body.decode()
    assert value(text, "whatsapp_dead_letters_total") == 5
    assert value(text, "whatsapp_turn_seconds_count", outcome="answered") == 2
    assert value(text, "whatsapp_turn_seconds_bucket", outcome="answered", le="0.25") == 2
