"""The FAQ health charts, drawn by matplotlib as SVG on the server (no script in the page).

An SVG shown through <img> runs no script; it needs only its own inline styles, which is all
SVG_CSP allows it.
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display; must come before anything imports pyplot
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402

from bot.insights.health import Health  # noqa: E402

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
BRAND, SECOND = "#1f7a4d", "#c2410c"
SIZE = (7.5, 2.6)


def _figure(height: float = SIZE[1]):
    figure = Figure(figsize=(SIZE[0], height), layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    return figure, axes


def _day_labels(health: Health) -> list[str]:
    return [d.day.strftime("%d %b") for d in health.days]


def _days_axis(axes, labels: list[str]) -> None:
    axes.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 10 else 0, ha="right"
                    if len(labels) > 10 else "center", fontsize=8)
    if len(labels) > 31:  # a label per week past a month, or they overlap
        for i, tick in enumerate(axes.xaxis.get_major_ticks()):
            tick.label1.set_visible(i % 7 == 0)


def answers(health: Health) -> Figure:
    figure, axes = _figure()
    labels = _day_labels(health)
    axes.bar(range(len(labels)), [d.messages for d in health.days], color="#d1d5db", label="Messages handled")
    axes.bar(range(len(labels)), [d.faq_answers for d in health.days], color=BRAND, label="FAQ answers")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    _days_axis(axes, labels)
    _legend(axes)
    return figure


def _legend(axes) -> None:
    # Above the plot, where it can never hide a value.
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, frameon=False)


def _lines(health: Health, series: dict[str, tuple[list, str]]) -> tuple[Figure, object]:
    figure, axes = _figure()
    labels = _day_labels(health)
    for name, (values, color) in series.items():
        # A day without messages has no rate: a gap, not a zero.
        axes.plot(range(len(labels)), [float("nan") if v is None else v for v in values],
                  marker="o", markersize=3, color=color, label=name)
    _days_axis(axes, labels)
    axes.set_ylim(bottom=0)
    _legend(axes)
    return figure, axes


def rates(health: Health) -> Figure:
    figure, axes = _lines(health, {
        "Fallback rate": ([d.fallback_rate for d in health.days], SECOND),
        "Handoff rate": ([d.handoff_rate for d in health.days], BRAND),
    })
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    return figure


def response_times(health: Health) -> Figure:
    figure, axes = _lines(health, {
        "Median": ([d.median_seconds for d in health.days], BRAND),
        "90th percentile": ([d.p90_seconds for d in health.days], SECOND),
    })
    axes.set_ylabel("seconds", fontsize=8)
    return figure


def top_faqs(health: Health) -> Figure:
    rows = list(reversed(health.top_faqs)) or [("(none yet)", 0)]
    figure, axes = _figure(height=0.6 + 0.28 * len(rows))
    axes.barh([key for key, _ in rows], [n for _, n in rows], color=BRAND)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="x", alpha=0.3)
    axes.grid(axis="y", visible=False)
    axes.tick_params(axis="y", labelsize=8)
    return figure


CHARTS = {"answers": answers, "rates": rates, "response-times": response_times, "top-faqs": top_faqs}


def svg(name: str, health: Health) -> bytes:
    out = io.BytesIO()
    # Text as outlines ("path"): the chart looks the same whatever fonts the browser has.
    with matplotlib.rc_context({"svg.fonttype": "path", "font.size": 9}):
        CHARTS[name](health).savefig(out, format="svg")
    return out.getvalue()
