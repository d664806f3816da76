"""The publish worker for tests: a copy of the project in its own git repository with the
session's model as the live one, and the worker process running on it against the session
stack's Rasa (tests/stack.py)."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from bot.content import training
from bot.content.publish_store import PublishStore
from tests.stack import PY, ROOT


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout


def add_examples(project: Path, faq: str, texts: list[str]) -> None:
    path = project / "data" / "faq" / f"{faq}.yml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == "examples: |") + 1
    lines[at:at] = [f"    - {text}\n" for text in texts]
    path.write_text("".join(lines), encoding="utf-8")


def copy_with_model(root: Path, trained_model: Path, model_dir: str = "models") -> Path:
    """The project's inputs copied into `root`, with the session's model in `model_dir` stamped
    with this copy's fingerprint (it was trained from the same inputs): nothing to train there
    until the data changes, and then, from a copy of the Rasa cache it was trained with, only
    what changed."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(ROOT / "bot" / "nlu", root / "bot" / "nlu")
    (root / model_dir).mkdir(parents=True)
    shutil.copyfile(trained_model, root / model_dir / f"{training.MODEL_NAME}.tar.gz")
    (root / model_dir / f"{training.MODEL_NAME}.fingerprint.json").write_text(
        json.dumps(training.fingerprint(root)))
    shutil.copytree(trained_model.parent / "cache", root / ".rasa" / "cache")
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory, trained_model):
    """A copy of the project in its own git repository, with the stack's model as the live one."""
    root = copy_with_model(tmp_path_factory.mktemp("publish-project"), trained_model)
    git(root, "init", "-q")
    git(root, "add", "data")
    git(root, "-c", "user.name=dev", "-c", "user.email=dev@example.invalid", "commit", "-q", "-m", "data")
    return root


@pytest.fixture(scope="module")
def publisher(stack, project):
    """The worker process, as the launcher runs it, against the session stack's Rasa; Rasa gets
    the session's model back afterwards, so later tests see what they expect."""
    from core.redis_conn import get_redis

    client = get_redis(stack.redis_url)
    # The Redis is the session's: no job or record from another test may be waiting in it.
    for key in client.scan_iter("publish:*"):
        client.delete(key)
    log = open(stack.log_dir / "publisher.log", "wb")
    env = {**stack.env, "PUBLISH_ROOT": str(project), "RASA_URLS": stack.rasa_url,
           "RASA_CACHE_DIRECTORY": str(project / ".rasa" / "cache")}
    proc = subprocess.Popen([PY, "-m", "bot.content.publisher"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    stack.procs["publisher"] = proc
    stack._wait_worker(180)
    # Ready once the worker has measured what is live (its first job, before any publish).
    deadline = time.monotonic() + 300
    while PublishStore(client).live() is None:
        assert proc.poll() is None and time.monotonic() < deadline, "the worker recorded no baseline"
        time.sleep(0.5)
    yield proc
    proc.terminate()
    proc.wait(10)
    del stack.procs["publisher"]
    httpx.put(f"{stack.rasa_url}/model", params={"token": stack.env["RASA_TOKEN"]},
              json={"model_file": str(stack.model)}, timeout=120)
