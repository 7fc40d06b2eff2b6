"""Run the benchmark suite: one table on stdout, the same rows as JSON.

``python -m benchmarks [--only a,c] [--json FILE]`` from the repository root.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from . import blackhole, breaker_timing, kit_overhead, retry_amplification, runner_figures
from .harness import ROOT, Row

Benchmark = Callable[[Path], Awaitable[list[Row]]]
BENCHMARKS: dict[str, Benchmark] = {
    "a": kit_overhead.run,
    "b": retry_amplification.run,
    "c": blackhole.run,
    "d": breaker_timing.run,
    "e": runner_figures.run,
}
COLUMNS = ("benchmark", "metric", "figure", "baseline", "ratio", "unit", "goal", "met", "note")


def table(rows: list[Row]) -> str:
    cells = [COLUMNS] + [
        (
            r.benchmark,
            r.metric,
            f"{r.figure:.3f}" if r.unit == "ms" else f"{r.figure:.2f}",
            f"{r.baseline:.3f}" if r.unit == "ms" else f"{r.baseline:.2f}",
            "-" if r.ratio is None else f"{r.ratio:.2f}x",
            r.unit,
            r.goal or "-",
            {True: "yes", False: "NO", None: "-"}[r.met],
            r.note,
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    numeric = {2, 3, 4}
    lines = [
        "  ".join(
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


async def run(selected: list[str], log_dir: Path) -> list[Row]:
    rows: list[Row] = []
    for key in selected:
        started = time.monotonic()
        print(f"running {key}: {BENCHMARKS[key].__module__} ...", flush=True)
        rows += await BENCHMARKS[key](log_dir)
        print(f"  done in {time.monotonic() - started:.1f}s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default="".join(BENCHMARKS), help="benchmarks to run, e.g. 'a' or 'be'"
    )
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--log-dir", type=Path, default=ROOT / ".chaosbed" / "bench")
    args = parser.parse_args()
    selected = [k for k in args.only.replace(",", "") if k in BENCHMARKS]
    unknown = set(args.only.replace(",", "")) - set(BENCHMARKS)
    if unknown or not selected:
        parser.error(f"--only: choose from {', '.join(BENCHMARKS)}, not {args.only!r}")
    args.log_dir.mkdir(parents=True, exist_ok=True)
    rows = asyncio.run(run(selected, args.log_dir))
    print()
    print(table(rows))
    report = {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "rows": [{**asdict(r), "ratio": r.ratio} for r in rows],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults: {args.json}  (logs: {args.log_dir})")


if __name__ == "__main__":
    main()
