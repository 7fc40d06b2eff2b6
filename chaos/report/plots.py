"""The report's plots, drawn by matplotlib and returned as inline SVG markup.

No pyplot: each plot is its own `Figure` (no global state, safe in any
thread). Text stays text (`svg.fonttype: none`), which keeps the file small.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from statistics import median
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .model import Run, Series

__all__ = ["baseline_plot", "comparison_plot", "figure", "run_plot", "svg", "timeline_plot"]

FAULT_COLOUR = "#d62728"
OBJECTIVE_COLOUR = "#2ca02c"
STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "chaosbed",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
UNITS = {"availability": "%", "latency": "ms", "promql": ""}
PHASES = (
    "preflight",
    "load",
    "warmup",
    "steady",
    "method",
    "tail",
    "rollback",
    "recovery",
    "expectations",
    "done",
)


@contextmanager
def _figure(width: float, height: float) -> Iterator[Figure]:
    with matplotlib.rc_context(STYLE):
        yield Figure(figsize=(width, height), layout="constrained")


def _svg(figure: Figure, label: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Title": label})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # no XML prolog or DOCTYPE inside HTML


#: For the other pages' plots (the monkey's report).
figure = _figure
svg = _svg


def _shade_faults(axes: Axes, run: Run, *, label: bool) -> None:
    for index, fault in enumerate(run.faults):
        axes.axvspan(
            fault.start,
            fault.end,
            color=FAULT_COLOUR,
            alpha=0.12,
            label="fault injected" if label and index == 0 else None,
        )
    for index, t in enumerate(run.aborts):
        axes.axvline(
            t, color=FAULT_COLOUR, linestyle="--", label="abort" if label and index == 0 else None
        )
        axes.plot([t], [axes.get_ylim()[1]], marker="X", color=FAULT_COLOUR, markersize=9)


def _sli_axes(axes: Axes, run: Run, series: Series) -> None:
    times = [t for t, _, _, _ in series.points]
    values = [float("nan") if v is None else v for _, v, _, _ in series.points]
    axes.plot(times, values, color="#1f77b4", linewidth=1.4, label=series.name)
    bad = [(t, v) for t, v, ok, _ in series.points if ok is False and v is not None]
    if bad:
        axes.scatter(
            [t for t, _ in bad],
            [v for _, v in bad],
            color=FAULT_COLOUR,
            s=12,
            zorder=3,
            label="breach",
        )
    if series.limit is not None:
        axes.axhline(
            series.limit,
            color=OBJECTIVE_COLOUR,
            linestyle="--",
            linewidth=1,
            label=f"objective {series.op} {series.limit:g}",
        )
    if series.baseline is not None:
        axes.axhline(series.baseline, color="grey", linestyle=":", linewidth=1, label="baseline")
    if series.kind == "availability":  # a percentage never exceeds 100
        axes.set_ylim(top=100.5)
    unit = UNITS.get(series.kind, "")
    axes.set_ylabel(f"{series.name}" + (f" ({unit})" if unit else ""))
    _shade_faults(axes, run, label=True)
    axes.legend(loc="lower left", fontsize=7, ncols=3, frameon=False)


def _breaker_axes(axes: Axes, run: Run) -> None:
    edges = [e for e, samples in run.breakers.items() if any(s is not None for _, s in samples)]
    for index, edge in enumerate(edges):
        samples = run.breakers[edge]
        offset = (index - (len(edges) - 1) / 2) * 0.06
        axes.step(
            [t for t, _ in samples],
            [float("nan") if s is None else s + offset for _, s in samples],
            where="post",
            linewidth=1.3,
            label=edge,
        )
    axes.set_yticks([0, 1, 2], ["closed", "open", "half-open"])
    axes.set_ylim(-0.4, 2.4)
    axes.set_ylabel("breaker")
    axes.set_xlabel("seconds since the run started")
    _shade_faults(axes, run, label=False)
    if edges:
        axes.legend(loc="upper left", fontsize=7, ncols=2, frameon=False)
    else:
        axes.text(
            0.5, 0.5, "no breaker samples in this journal", transform=axes.transAxes, ha="center"
        )


def run_plot(run: Run, label: str) -> str:
    """Each SLI over time (objective, baseline, fault windows, aborts) and breaker state."""
    rows = len(run.series) + 1
    with _figure(9.0, 1.9 * rows + 0.4) as figure:
        axes = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
        for ax, series in zip(axes, run.series, strict=False):
            _sli_axes(ax, run, series)
        _breaker_axes(axes[-1], run)
        axes[-1].set_xlim(0, max(run.duration, 1.0))
        return _svg(figure, label)


def _under_fault(run: Run, series: Series) -> list[float]:
    if not run.faults:
        return []
    start, end = min(f.start for f in run.faults), max(f.end for f in run.faults)
    return [v for t, v, _, _ in series.points if start <= t <= end and v is not None]


def baseline_plot(run: Run, label: str) -> str:
    """Per SLO: the steady-state baseline against the median and worst values under fault."""
    count = max(len(run.series), 1)
    with _figure(min(3.0 * count, 9.0), 2.4) as figure:
        axes = figure.subplots(1, count, squeeze=False)[0]
        for ax, series in zip(axes, run.series, strict=False):
            values = _under_fault(run, series)
            worse_is_low = ">" in series.op
            worst = (min(values) if worse_is_low else max(values)) if values else float("nan")
            bars = [
                series.baseline if series.baseline is not None else float("nan"),
                median(values) if values else float("nan"),
                worst,
            ]
            ax.bar(
                ["baseline", "median\nunder fault", "worst\nunder fault"],
                bars,
                color=["grey", "#1f77b4", FAULT_COLOUR],
            )
            if series.limit is not None:
                ax.axhline(series.limit, color=OBJECTIVE_COLOUR, linestyle="--", linewidth=1)
            finite = [b for b in bars if b == b] + ([series.limit] if series.limit else [])
            if finite and series.kind == "availability":
                ax.set_ylim(max(0.0, min(finite) - 2.0), 100.5)
            for x, value in enumerate(bars):
                if value == value:
                    ax.annotate(f"{value:.4g}", (x, value), ha="center", va="bottom", fontsize=7)
            unit = UNITS.get(series.kind, "")
            ax.set_title(series.name + (f" ({unit})" if unit else ""), fontsize=9)
        return _svg(figure, label)


def timeline_plot(run: Run, label: str) -> str:
    """Every journal event on the run's clock, one lane per phase."""
    lanes = {phase: index for index, phase in enumerate(PHASES)}
    with _figure(9.0, 2.6) as figure:
        ax = figure.subplots()
        _shade_faults(ax, run, label=False)
        for event in run.events:
            phase = str(event.get("phase", ""))
            what = str(event.get("event", ""))
            y = lanes.setdefault(phase, len(lanes))
            important = what in (
                "injected",
                "rolled_back",
                "abort",
                "verdict",
                "recovered",
                "not_recovered",
                "problem",
                "error",
                "interrupted",
            )
            colour = FAULT_COLOUR if what in ("injected", "abort", "problem", "error") else "#444"
            ax.plot([float(event["t"])], [y], marker="o" if important else "|", color=colour)
            if important:
                ax.annotate(
                    what,
                    (float(event["t"]), y),
                    xytext=(3, 4),
                    textcoords="offset points",
                    fontsize=7,
                )
        ax.set_yticks(list(lanes.values()), list(lanes))
        ax.set_ylim(-0.5, len(lanes) - 0.5)
        ax.invert_yaxis()
        ax.set_xlim(0, max(run.duration, 1.0) * 1.05)
        ax.set_xlabel("seconds since the run started")
        return _svg(figure, label)


COHORT_COLOURS = {"control": "#7f7f7f", "experiment": FAULT_COLOUR}
METRIC_UNITS = {
    "latency": "ms",
    "success": "1 good, 0 not",
    "starts_per_second": "per % of members",
}


def comparison_plot(run: Run, label: str) -> str:
    """Per compared metric: each cohort's distribution as an empirical CDF (from the
    journal's quantiles), control and experiment on the same axes."""
    metrics = list(run.comparison.get("metrics", ()))
    count = max(len(metrics), 1)
    with _figure(min(3.2 * count, 9.6), 2.6) as figure:
        axes = figure.subplots(1, count, squeeze=False)[0]
        for ax, metric in zip(axes, metrics, strict=False):
            distribution = metric.get("distribution") or {}
            for cohort in ("control", "experiment"):
                values = distribution.get(cohort) or []
                if values:
                    share = (
                        [(k + 1) / len(values) for k in range(len(values))]
                        if len(values) == 1
                        else [k / (len(values) - 1) for k in range(len(values))]
                    )
                    ax.step(values, share, where="post", color=COHORT_COLOURS[cohort],
                            label=f"{cohort} (n={metric.get(cohort + '_n', 0)})")  # fmt: skip
            if metric.get("metric") == "latency" and any(distribution.values()):
                ax.set_xscale("symlog", linthresh=1.0)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel(METRIC_UNITS.get(str(metric.get("metric")), ""), fontsize=8)
            ax.set_title(f"{metric.get('name')}: {metric.get('classification')}", fontsize=9)
            if distribution.get("control") or distribution.get("experiment"):
                ax.legend(fontsize=7, loc="lower right")
        axes[0].set_ylabel("share of samples at or below")
        return _svg(figure, label)
