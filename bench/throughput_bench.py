"""Throughput of this product against stock Rasa 3.6, same machine, same run, same load generator.

    python -m bench.throughput_bench [--quick]          (make bench [ARGS=--quick])

What runs: this product's real processes (embedded Redis, action server, Rasa with our channel
and trained model, and `python -m connector.ingress` when the tree has it, else webhooks go to
the channel's own route) with bench/graph_standin.py as the Graph API; then, once ours has
stopped, stock Rasa 3.6 (`rasa init --no-prompt` assistant, default config, REST channel, trained
once into var/bench/; both sides start at once, and each is measured while the other idles).

What is measured (bench/figures.py defines ack, end to end, lost, duplicate, out of order):
  burst       N signed webhooks, one new customer each (Spanish FAQ questions from data/faq/),
              over 8 connections as fast as they are acked; messages/s = answered / (last reply −
              first post): the rate the workers sustain. Stock: N REST calls, 20 in flight.
  half load   open-loop at half the burst's rate: ack and end-to-end p50/p99 at that load.
  both with the stand-in answering at 0 ms and at 250 ms (a real Graph call takes a few hundred).
  ingest      for 15 s, webhooks over 16 connections as fast as they are acked (their answers
              are not awaited): the ceiling of acks/s, and its p99 ack.
  memory      peak RSS summed over all processes of a side (the stand-in is Meta's, not counted).
  profile     py-spy on Rasa (and the ingress) during the 0 ms burst and half load (bench/cpu_profile.py).
Prints one Markdown table with the goals of issue 11 beside the figures; JSON to
results/throughput.json. Figures are for the machine they ran on: a shared machine's are noisy.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import shutil
import time
from pathlib import Path

import httpx

from bench import figures
from bench.cpu_profile import Recording, fold, print_profile
from bench.graph_standin import Arrival, arrivals_from_json
from bench.load import RestTarget, WebhookTarget, closed_loop, customers, faq_texts, flood, open_loop
from bench.processes import HAS_INGRESS, MemorySampler, Ours, Stock, stock_model
from bench.table import goals_table
from core.quiet import library_deprecations_off

ROOT = Path(__file__).resolve().parents[1]
BURST_CONNECTIONS, STOCK_IN_FLIGHT, INGEST_CONNECTIONS = 8, 20, 16
# A reply still missing after this long with nothing arriving at the stand-in is lost.
QUIET_SECONDS = 30


async def _replies(standin_url: str, sent: list[figures.Sent], seen: list[Arrival]) -> figures.Matched:
    """Polls the stand-in until every accepted message has its reply or nothing arrives for a while."""
    expected = sum(s.accepted for s in sent)
    last_new = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as http:
        while True:
            answer = await http.get(f"{standin_url}/_standin/arrivals", params={"since": len(seen)})
            new = arrivals_from_json(answer.json())
            seen += new
            matched = figures.match_replies(sent, seen)
            if len(matched.answered) >= expected:
                return matched
            last_new = time.monotonic() if new else last_new
            if time.monotonic() - last_new > QUIET_SECONDS:
                return matched
            await asyncio.sleep(0.25)


def _phase(name: str, sent: list[figures.Sent], matched: figures.Matched) -> dict:
    figures_of = {"messages": len(sent), "refused": sum(not s.accepted for s in sent),
            "messages_per_s": figures.rate(sent, matched), "ack": figures.summary_ms(figures.acks(sent)),
            "end_to_end": figures.summary_ms(figures.end_to_end(sent, matched)),
            "lost": len(matched.lost), "duplicates": matched.duplicates, "out_of_order": matched.out_of_order,
            "replies_in_answers": sum(s.replies for s in sent)}
    print(f"  {name}: {len(sent)} messages, {figures_of['messages_per_s']} answered/s, ack p99 "
          f"{figures_of['ack']['p99_ms']} ms, end to end p99 {figures_of['end_to_end']['p99_ms']} ms, "
          f"{figures_of['lost']} lost", flush=True)
    return figures_of


async def _ours(ours: Ours, burst: int, seconds: float, latencies: list[float], ingest: float, profile_dir: Path,
                per_customer: int, profile_mode: str, fault_rate: float) -> dict:
    target = WebhookTarget(ours.webhook_url, ours.settings)
    source = customers(faq_texts(), per_customer=per_customer)
    arrivals: list[Arrival] = []
    result: dict = {"webhooks_to": "ingress" if HAS_INGRESS else "Rasa channel route", "latencies": {}}
    async with httpx.AsyncClient(timeout=10) as http:
        async def settings(**values) -> None:
            await http.post(f"{ours.standin_url}/_standin/settings", json=values)

        await settings(latency_ms=0, fault_rate=0)
        warm = await closed_loop(target, source, 5, 1)  # first-turn costs (model graph, connections)
        await _replies(ours.standin_url, warm, arrivals)
        for latency in latencies:
            await settings(latency_ms=latency, fault_rate=fault_rate)
            profiled = latency == latencies[0]
            pids = {n: p for n, p in ours.pids().items() if n in ("rasa", "ingress")}
            recording = Recording(profile_dir, pids, mode=profile_mode).start() if profiled else None
            sent = await closed_loop(target, source, burst, BURST_CONNECTIONS)
            phases = {"burst": _phase(f"ours, {latency:.0f} ms, burst", sent,
                                      await _replies(ours.standin_url, sent, arrivals))}
            half_rate = (phases["burst"]["messages_per_s"] or 1) / 2
            sent = await open_loop(target, source, half_rate, seconds)
            phases["half_load"] = {"rate": round(half_rate, 2), **_phase(
                f"ours, {latency:.0f} ms, half load", sent, await _replies(ours.standin_url, sent, arrivals))}
            if recording is not None:
                stacks = recording.stop()
                result["profile"] = {name: fold(lines) for name, lines in stacks.items()}
                result["profile_error"] = recording.error
            result["latencies"][str(int(latency))] = phases
        await settings(latency_ms=0, fault_rate=0)
        sent = await flood(target, source, ingest, INGEST_CONNECTIONS)
        result["ingest"] = {"webhooks": len(sent), "refused": sum(not s.accepted for s in sent),
                            "acks_per_s": figures.ack_rate(sent), "ack": figures.summary_ms(figures.acks(sent))}
        print(f"  ours, ingest: {result['ingest']['acks_per_s']} acks/s, p99 {result['ingest']['ack']['p99_ms']} ms",
              flush=True)
        status = (await http.get(f"{ours.standin_url}/_standin/arrivals", params={"since": len(arrivals)})).json()
        result["status_webhooks"] = status["status_webhooks"]
    return result


async def _stock(stock: Stock, burst: int, seconds: float, per_customer: int) -> dict:
    target = RestTarget(stock.rest_url)
    source = customers(faq_texts(), seed=1, per_customer=per_customer)
    await closed_loop(target, source, 5, 1)
    sent = await closed_loop(target, source, burst, STOCK_IN_FLIGHT)
    phases = {"burst": _phase("stock, burst", sent, figures.synchronous_replies(sent))}
    half_rate = (phases["burst"]["messages_per_s"] or 1) / 2
    sent = await open_loop(target, source, half_rate, seconds)
    phases["half_load"] = {"rate": round(half_rate, 2), **_phase("stock, half load", sent,
                                                                  figures.synchronous_replies(sent))}
    return phases


def _machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu_model": model, "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version()}


def _commit() -> str | None:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, for a look in about 3 minutes")
    parser.add_argument("--burst", type=int, help="messages per burst (default 300, quick 60)")
    parser.add_argument("--seconds", type=float, help="seconds of half load (default 30, quick 10)")
    parser.add_argument("--ingest", type=float, help="seconds of the ingest ceiling (default 15, quick 5)")
    parser.add_argument("--latencies", default="0,250", help="Graph stand-in latencies in ms; the first is profiled")
    parser.add_argument("--per-customer", type=int, default=1,
                        help="messages per customer (1: one new customer each; more checks per-customer order)")
    parser.add_argument("--profile", choices=("gil", "wall"), default="gil",
                        help="py-spy samples the GIL holder (CPU) or every active thread (wall clock, waits included)")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="fraction of sends the stand-in refuses (500, 429, 130429) in the burst and half load")
    parser.add_argument("--workers", type=int, help="conversation workers of our Rasa process (WA_WORKERS)")
    parser.add_argument("--rasa-processes", type=int, default=1,
                        help="our Rasa processes, as make run WORKERS=N (stock Rasa stays one)")
    parser.add_argument("--no-stock", action="store_true", help="skip stock Rasa (no ratios)")
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "throughput.json")
    args = parser.parse_args(argv)
    burst = args.burst or (60 if args.quick else 300)
    seconds = args.seconds or (10 if args.quick else 30)
    ingest = args.ingest or (5 if args.quick else 15)
    latencies = [float(x) for x in args.latencies.split(",")]

    library_deprecations_off()
    from bot.content import training

    training._quiet_rasa()
    machine = _machine()
    model = training.train().model_path
    stock_path = None if args.no_stock else stock_model()
    report: dict = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine,
                    "commit": _commit(), "settings": {"burst": burst, "half_load_seconds": seconds, "ingest_seconds": ingest,
                                                      "latencies_ms": latencies,
                                                      "per_customer": args.per_customer, "profile": args.profile,
                                                      "fault_rate": args.fault_rate, "workers": args.workers,
                                                      "rasa_processes": args.rasa_processes}}
    # Kept after the run (git-ignored) so a process that failed can be read about; the next run clears it.
    work = ROOT / "var" / "bench" / "run"
    shutil.rmtree(work, ignore_errors=True)
    # Both sides load at once (stock Rasa's TensorFlow models take minutes on a busy machine), then
    # each is measured while the other idles: ours first, stock once ours has stopped.
    stock = Stock(work / "stock", stock_path).launch() if stock_path is not None else None
    try:
        print(f"Starting this product ({'ingress' if HAS_INGRESS else 'webhooks to the Rasa channel'})"
              f"{' and stock Rasa 3.6' if stock else ''}…", flush=True)
        ours = Ours(work / "ours", model, workers=args.workers, rasa_processes=args.rasa_processes).start()
        try:
            if stock is not None:
                try:
                    stock.ready()
                except RuntimeError as exc:  # ours is still worth measuring; the table says what is missing
                    print(f"stock Rasa: {exc}", flush=True)
                    report["stock_error"] = str(exc)
                    stock.stop()
                    stock = None
            with MemorySampler(ours.pids()) as memory:
                report["ours"] = asyncio.run(_ours(ours, burst, seconds, latencies, ingest, work / "profile",
                                                   args.per_customer, args.profile, args.fault_rate))
            report["ours"]["memory_mb"] = {"total": memory.total_mb, **{k: round(v, 1) for k, v in memory.peak.items()}}
        finally:
            ours.stop()
        if stock is not None:
            with MemorySampler(stock.pids()) as memory:
                report["stock"] = asyncio.run(_stock(stock, burst, seconds, args.per_customer))
            report["stock"]["memory_mb"] = {"total": memory.total_mb, **{k: round(v, 1) for k, v in memory.peak.items()}}
    finally:
        if stock is not None:
            stock.stop()
    report["table"] = goals_table(report)  # as printed, for README
    print()
    print(report["table"])
    for name, folded in (report["ours"].get("profile") or {}).items():
        print_profile(name, folded, args.profile)
    if report.get("stock_error"):
        print(f"\nstock Rasa not measured: {report['stock_error']}")
    if report["ours"].get("profile_error"):
        print(f"\nprofile: {report['ours']['profile_error']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nJSON: {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
