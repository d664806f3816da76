"""From a saved edit to the new model answering: every publish stage, timed, for one FAQ example
added, beside the previous path (a full training) measured in the same run.

    python -m bench.publish_bench        (make bench-publish)

On a copy of the project in a temporary folder, with its own Rasa cache, Redis and Rasa
process, so nothing of this checkout is touched. As under `make run`: the model Rasa starts
with is trained by another process (the launcher), then the worker, in its own process, takes
the baseline measurement once at start, and then publishes the edit.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.train_bench import EDITED_FAQ, NEW_EXAMPLE, _add_example, _copy_project
from bot.content import training
from bot.content.publish_store import PUBLISHED, PublishStore
from bot.content.publisher import Publisher, Rasa
from core.redis_conn import EmbeddedRedis, free_port, get_redis

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def _timed_subprocess(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _start_rasa(model: Path, port: int, env: dict, log: Path) -> subprocess.Popen:
    """Only the HTTP API is timed here (PUT /model, /model/parse): no channel, in-memory trackers
    (empty credentials and endpoints, not the project's, which need the whole stack)."""
    empty = log.parent / "empty.yml"
    empty.write_text("{}\n")
    proc = subprocess.Popen(
        [PY, "-m", "ops.rasa_server", "run", "--enable-api", "--port", str(port), "--model", str(model),
         "--credentials", str(empty), "--endpoints", str(empty)],
        cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("Rasa exited:\n" + log.read_text(errors="replace")[-2000:])
        try:
            status = httpx.get(f"http://127.0.0.1:{port}/status", params={"token": env["RASA_TOKEN"]}, timeout=2)
            if status.status_code == 200 and status.json().get("model_file"):
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Rasa did not start; see {log}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "publish_bench.json")
    args = parser.parse_args(argv)
    training._quiet_rasa()
    with tempfile.TemporaryDirectory(prefix="publish-bench-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        _copy_project(project)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false",
               "RASA_CACHE_DIRECTORY": str(project / ".rasa" / "cache"), "RASA_TOKEN": secrets.token_urlsafe(16)}
        os.environ["RASA_CACHE_DIRECTORY"] = env["RASA_CACHE_DIRECTORY"]
        # The previous path, for comparison: what an edit cost before, a full cold training.
        full = _timed_subprocess([PY, "-m", "bot.content.training", "--root", str(project), "--force"], env)
        redis_server = EmbeddedRedis(Path(tmp) / "redis", port=free_port())
        store = PublishStore(get_redis(redis_server.start()))
        port = free_port()
        rasa = _start_rasa(project / "models" / f"{training.MODEL_NAME}.tar.gz", port, env, Path(tmp) / "rasa.log")
        try:
            publisher = Publisher(store, Rasa([f"http://127.0.0.1:{port}"], env["RASA_TOKEN"]), root=project)
            started = time.perf_counter()
            publisher.ensure_baseline()
            baseline_s = time.perf_counter() - started
            started = time.perf_counter()
            publisher.prepare()  # as the worker does at start, after the baseline
            prepare_s = time.perf_counter() - started
            _add_example(project)
            store.enqueue("bench")
            started = time.perf_counter()
            job = publisher.handle(store.next_job(1))
            total = time.perf_counter() - started
        finally:
            rasa.terminate()
            rasa.wait(20)
            redis_server.stop()
    if job["state"] != PUBLISHED:
        print(f"publish {job['state']}: {job['reason']}", file=sys.stderr)
        return 1
    stages = {s["name"]: s["seconds"] for s in job["stages"]}
    print(f"one example added to {EDITED_FAQ}: {NEW_EXAMPLE.strip()!r}")
    print(f"{'stage':<34}{'publish s':>10}{'full train s':>14}")
    for name, seconds in stages.items():
        before = f"{full:>14.1f}" if name == "train" else f"{'':>14}"
        print(f"{name:<34}{seconds:>10.1f}{before}")
    print(f"{'edit → new model answering':<34}{total:>10.1f}")
    print(f"(once per worker start: baseline measurement {baseline_s:.1f} s, imports and embeddings "
          f"{prepare_s:.1f} s; first answer: {job['first_answer']['text']!r} → {job['first_answer']['intent']})")
    figures = {"stages_s": stages, "edit_to_answer_s": round(total, 2),
               "full_training_cold_s": round(full, 2), "baseline_measurement_s": round(baseline_s, 2), "worker_prepare_s": round(prepare_s, 2)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
