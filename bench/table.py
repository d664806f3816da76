"""The throughput benchmark's one table: figures beside issue 11's goals, met or the distance."""
from __future__ import annotations

# Issue 11's goals; every row of the table that has one says whether it is met.
SPEEDUP_GOAL = 3.0            # × stock Rasa's messages/s, Graph answering at once
SLOW_GRAPH_GOAL = 0.9         # of our own 0 ms rate, when the Graph API takes 250 ms
ACK_P99_GOAL_MS = 50.0
E2E_P99_GOAL_MS = 1000.0      # at half of the measured maximum rate
INGEST_GOAL = 1000.0          # acks/s (Meta's highest per-number rate), with p99 ack under ACK_P99_GOAL_MS
MEMORY_GOAL = 0.5             # × stock Rasa's RSS


def _n(value, unit: str = "", digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}{unit}"


def _pair(summary: dict | None) -> str:
    if not summary or summary.get("p50_ms") is None:
        return "—"
    return f"{summary['p50_ms']:,.0f} / {summary['p99_ms']:,.0f} ms"


def _verdict(met: bool | None, distance: str) -> str:
    if met is None:
        return "not measured"
    return "met" + (f" ({distance})" if distance else "") if met else f"**not met**: {distance}"


def _p99_row(label: str, summary: dict | None, stock: dict | None, goal_ms: float) -> list[str]:
    p99 = (summary or {}).get("p99_ms")
    met = None if p99 is None else p99 < goal_ms
    return [label, _pair(summary), _pair(stock), f"p99 < {goal_ms:,.0f} ms",
            _verdict(met, "" if p99 is None else f"p99 {p99 / goal_ms:.1f}× the limit" if not met else "")]


def rows(report: dict) -> list[list[str]]:
    ours, stock = report["ours"], report.get("stock") or {}
    lat = ours["latencies"]
    fast, slow = lat.get("0", {}), lat.get("250", {})
    stock_burst, stock_half = stock.get("burst", {}), stock.get("half_load", {})
    out = []

    ours_rate, stock_rate = fast.get("burst", {}).get("messages_per_s"), stock_burst.get("messages_per_s")
    ratio = ours_rate / stock_rate if ours_rate and stock_rate else None
    out.append(["messages/s, Graph at 0 ms", _n(ours_rate), _n(stock_rate), f"≥ {SPEEDUP_GOAL:.0f}× stock",
                _verdict(None if ratio is None else ratio >= SPEEDUP_GOAL, f"{ratio:.2f}× stock" if ratio else "")])
    slow_rate = slow.get("burst", {}).get("messages_per_s")
    kept = slow_rate / ours_rate if slow_rate and ours_rate else None
    out.append(["messages/s, Graph at 250 ms", _n(slow_rate), "n/a (no Graph)", f"≥ {SLOW_GRAPH_GOAL:.0%} of 0 ms",
                _verdict(None if kept is None else kept >= SLOW_GRAPH_GOAL, f"{kept:.0%} of 0 ms" if kept else "")])
    out.append(_p99_row("ack p50 / p99, burst, 0 ms", fast.get("burst", {}).get("ack"), None, ACK_P99_GOAL_MS))
    out.append(_p99_row("ack p50 / p99, half load, 0 ms", fast.get("half_load", {}).get("ack"), None, ACK_P99_GOAL_MS))
    for name, phases in (("0 ms", fast), ("250 ms", slow)):
        half = phases.get("half_load", {})
        label = f"end to end p50 / p99 at half load ({_n(half.get('rate'), '/s')}), Graph {name}"
        out.append(_p99_row(label, half.get("end_to_end"), stock_half.get("end_to_end") if name == "0 ms" else None,
                            E2E_P99_GOAL_MS))
    lost = sum(p.get("lost", 0) for ph in lat.values() for p in ph.values())
    dups = sum(p.get("duplicates", 0) for ph in lat.values() for p in ph.values())
    disorder = sum(p.get("out_of_order", 0) for ph in lat.values() for p in ph.values())
    refused = sum(p.get("refused", 0) for ph in lat.values() for p in ph.values())
    stock_failed = sum(p.get("refused", 0) for p in (stock_burst, stock_half))
    out.append(["lost / duplicates / out of order (webhooks refused)", f"{lost} / {dups} / {disorder} ({refused})",
                f"{stock_failed} requests failed" if stock else "—", "0 / 0 / 0",
                _verdict(lost == dups == disorder == 0, "" if lost == dups == disorder == 0 else "must be 0")])
    ingest = ours.get("ingest", {})
    acks, p99 = ingest.get("acks_per_s"), (ingest.get("ack") or {}).get("p99_ms")
    met = None if acks is None or p99 is None else acks >= INGEST_GOAL and p99 < ACK_P99_GOAL_MS
    out.append(["ingest ceiling: acks/s (p99 ack)", f"{_n(acks, '', 0)} ({_n(p99, ' ms', 0)})",
                f"{_n(stock_rate, '', 0)} (= its messages/s)" if stock_rate else "—",
                f"≥ {INGEST_GOAL:,.0f}/s, p99 < {ACK_P99_GOAL_MS:.0f} ms",
                _verdict(met, "" if met or acks is None else f"{acks / INGEST_GOAL:.0%} of the rate, p99 {p99:.0f} ms")])
    mem, stock_mem = ours.get("memory_mb", {}), stock.get("memory_mb", {})
    share = mem.get("total") / stock_mem["total"] if mem.get("total") and stock_mem.get("total") else None
    parts = " + ".join(f"{k} {v:.0f}" for k, v in mem.items() if k != "total")
    out.append(["memory, RSS of all processes (peak)", f"{_n(mem.get('total'), ' MB', 0)} ({parts})",
                _n(stock_mem.get("total"), " MB", 0), f"≤ {MEMORY_GOAL}× stock",
                _verdict(None if share is None else share <= MEMORY_GOAL, f"{share:.2f}× stock" if share else "")])
    statuses = ours.get("status_webhooks") or {}
    out.append(["status webhooks sent back (failed)", f"{statuses.get('sent', 0)} ({statuses.get('failed', 0)})",
                "n/a", "absorbed alongside", ""])
    return out


def goals_table(report: dict) -> str:
    header = ["", "this product", "stock Rasa 3.6", "goal", "met / distance"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(report)]
    machine = report["machine"]
    lines.append("")
    lines.append(f"{report['date']}, {machine['cpus']} CPUs ({machine['cpu_model']}), load average at start "
                 f"{machine['load_average_at_start'][0]}; webhooks to the {report['ours']['webhooks_to']}; "
                 f"commit {report.get('commit')}")
    return "\n".join(lines)
