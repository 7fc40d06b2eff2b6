"""How a load run reads in a terminal: a progress line while it runs, a table at the end."""

from __future__ import annotations

from chaos.load.generator import Progress
from chaos.load.results import LoadResults

__all__ = ["progress_line", "summary_table"]

COLUMNS = ("JOURNEY", "SERVICE", "REQUESTS", "OK", "P50", "P99", "FAILURES")


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}ms" if value >= 100 else f"{value:.1f}ms"


def progress_line(progress: Progress, duration: float) -> str:
    rate = progress.sent / progress.elapsed if progress.elapsed > 0 else 0.0
    ok = f"{100.0 * progress.good / progress.completed:.1f}%" if progress.completed else "-"
    return (
        f"{progress.elapsed:6.1f}s/{duration:g}s  sent {progress.sent} ({rate:.1f}/s)  "
        f"ok {ok}  in flight {progress.in_flight}  late {progress.late}  "
        f"overloaded {progress.overloaded}"
    )


def summary_table(results: LoadResults) -> str:
    rows = [COLUMNS]
    for totals in results.journeys:
        if totals.arrivals == 0:
            continue
        failures = ", ".join(
            f"{outcome} {count}"
            for outcome, count in totals.outcomes.items()
            if outcome != "ok" and count
        )
        ok = totals.ok_percent
        rows.append(
            (
                totals.journey,
                totals.service,
                str(totals.arrivals),
                "-" if ok is None else f"{ok:.1f}%",
                _ms(totals.p50_ms),
                _ms(totals.p99_ms),
                failures or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.append(
        f"target {results.target_rate:g}/s, achieved {results.achieved_rate:.1f}/s over "
        f"{results.duration_s:g}s ({results.sent} sent of {results.arrivals} arrivals); "
        f"{results.late} late (>{results.late_after_ms:g}ms), max lag {results.max_lag_ms:.0f}ms"
        + (f"; {results.cancelled} cancelled at stop" if results.cancelled else "")
    )
    return "\n".join(lines)
