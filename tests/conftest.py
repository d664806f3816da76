"""Fixtures shared by the whole suite: a real Redis, a really trained model, and ../shared/."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.redis_conn import EmbeddedRedis, free_port, get_redis

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
# Each pytest worker trains with its own Rasa cache: two trainings sharing one cache folder
# can collide on its files. Kept under .rasa/ (git-ignored), so later runs reuse it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("RASA_CACHE_DIRECTORY", str(ROOT / ".rasa" / f"cache-{os.environ['PYTEST_XDIST_WORKER']}"))
# One BLAS and OpenMP thread in every process of the run (set before numpy loads; the stack's
# processes inherit it): the workers and their subprocesses already fill the two cores, and a
# second thread per process only spins waiting for one. A training then costs about 15% less
# CPU and ends sooner (bot/nlu/embedding.py chose one thread for the same reason).
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

# What makes a module long, longest first: the publish worker's real trainings, a browser, the
# real processes or the trained model. `make test` hands whole modules to its three workers in the
# order collected (--dist loadfile --no-loadscope-reorder), so no long module starts last and
# keeps one worker busy alone at the end (pytest-xdist's own order, by number of tests, started
# the publish module, four tests and the longest by far, last). Browser modules before the
# model's: while one worker trains the model, the others are not left waiting for it. Three
# workers on two cores: much of a module's time is spent waiting on a real process (Rasa, a
# training, Chromium), and a third worker fills it (345 s against 374 s with two, measured in
# consecutive runs of the whole suite on a quiet machine).
LONG_FIXTURES = ({"publisher", "workers"}, {"browser"}, {"stack", "trained_model"})


def pytest_collection_modifyitems(items):
    def weight(module_items):
        used = set().union(*(getattr(item, "fixturenames", ()) for item in module_items))
        heavy = next((rank for rank, names in enumerate(LONG_FIXTURES) if used & names), len(LONG_FIXTURES))
        return heavy, -len(module_items)

    # Grouped as --dist loadfile groups them: by the file part of the node id.
    modules: dict = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    items[:] = [item for group in sorted(modules.values(), key=weight) for item in group]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Meta's spec and examples, and the benchmark data; tests that need them skip when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (reference material lives beside the repo, not in it)")
    return SHARED


@pytest.fixture(scope="session")
def redis_url():
    """A real Redis for the whole run: TEST_REDIS_URL if given, else an embedded server."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="redis-test-")), port=free_port())
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
def redis_client(redis_url):
    """A clean database for each test."""
    client = get_redis(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(autouse=True, scope="session")
def scripts_keep_to_one_slot():
    """Every script call of the run, on any client: its keys hash to one slot, as Redis Cluster
    requires (tests/core/scripts.py)."""
    from redis.commands.core import Script

    from tests.core.scripts import slots

    call = Script.__call__

    def checked(self, keys=[], args=[], client=None):
        if len(slots(keys)) > 1:
            raise AssertionError(f"one script call, keys in several hash slots: {list(keys)}")
        return call(self, keys=keys, args=args, client=client)

    Script.__call__ = checked
    yield
    Script.__call__ = call


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    """A real three-master Redis Cluster for the whole run (tests/core/cluster.py)."""
    from tests.core.cluster import LocalCluster

    cluster = LocalCluster(tmp_path_factory.mktemp("redis-cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster_client(redis_cluster):
    """A RedisCluster client on an emptied cluster, for each test."""
    client = redis_cluster.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> Path:
    """The shipped assistant, really trained once per test run (config.yml + domain.yml + data/).

    With several pytest workers (`make test` runs three), the first to get here trains into the
    run's shared temporary folder under a lock; the others wait and load the same model."""
    import fcntl

    from rasa.model_training import train

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "trained-model"
    out.mkdir(exist_ok=True)
    model = out / "test-model.tar.gz"
    with open(shared / "trained-model.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not model.exists():
            # Its own Rasa cache, stamped like bot/content/training.py stamps one: a copy of the
            # project (tests/publishing.py) starts from it, so a test's edit retrains only what
            # the edit changed, as a publish does under `make run`.
            from bot.content import training

            cache = out / "cache"
            with training.rasa_cache(cache):
                result = train(
                    domain=str(ROOT / "domain.yml"),
                    config=str(ROOT / "config.yml"),
                    training_files=[str(ROOT / "data")],
                    output=str(out),
                    fixed_model_name="test-model",
                )
            if result.code != 0 or not result.model:
                pytest.fail("training the shipped assistant failed")
            (cache / training.CACHE_CODE_STAMP).write_text(training.fingerprint(ROOT)["code"])
    return model


@pytest.fixture(scope="session")
def stack(redis_url, trained_model, tmp_path_factory):
    """Rasa (with our WhatsApp channel), the action server and the Cloud API emulator, running."""
    from tests.stack import Stack

    logs = tmp_path_factory.mktemp("stack-logs")
    # Always open, so handoff tests do not depend on the hour CI runs at; hours.yml itself is
    # covered by tests/test_hours.py.
    always_open = logs / "hours-always-open.yml"
    always_open.write_text(
        "timezone: America/Mexico_City\nweekly:\n"
        + "".join(f"  {day}: ['00:00-24:00']\n" for day in
                  ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    )
    # Its own database: the stack's connector workers poll the queue for the whole session, and
    # would take (and answer) what unit tests put in the flushed-per-test database 0.
    own_db = urlunsplit(urlsplit(redis_url)._replace(path="/1"))
    get_redis(own_db).flushdb()
    running = Stack(own_db, trained_model, logs, extra_env={"BUSINESS_HOURS_FILE": str(always_open)}).start()
    yield running
    running.stop()
