"""The verdict table printed at the end of a game day or a suite."""

from __future__ import annotations

from collections.abc import Sequence

from .outcome import ActResult

__all__ = ["verdict_table"]


def verdict_table(results: Sequence[ActResult], width: int = 60) -> str:
    rows = [("#", "experiment", "predicts", "verdict", "result", "why")]
    for index, result in enumerate(results, 1):
        why = result.why
        rows.append((
            str(index),
            result.name,
            result.predicts,
            result.verdict,
            "PASS" if result.passed else "FAIL",
            why if len(why) <= width else why[: width - 1] + "…",
        ))  # fmt: skip
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} of {len(results)} as predicted")
    return "\n".join(lines)
