"""Kayenta's scoring of a comparison: the share of metrics that pass, a
critical metric that fails scoring 0, and the `pass` / `marginal` thresholds.

- A metric *fails* when it is ``high`` or ``low``, or ``nodata`` while it
  `must_have_data` (chaosbed's default: no data is never a pass).
- A ``nodata`` metric that need not have data is left out of the score
  (Kayenta's rule), and the score says so.
- score = 100 x passing / counted; 0 when a critical metric fails; no metric
  counted at all is no score (None), never a pass.
- verdict: ``pass`` at or above `pass_threshold`, ``marginal`` at or above
  `marginal_threshold`, else ``fail``. Kayenta's canary treats marginal as
  "ask a human"; chaosbed's verdict needs a decision, so a marginal score
  does not hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .stats import MetricComparison

__all__ = [
    "DEFAULT_MARGINAL",
    "DEFAULT_PASS",
    "Judged",
    "Score",
    "fails",
    "score",
]

DEFAULT_PASS = 95.0
DEFAULT_MARGINAL = 75.0

ScoreVerdict = Literal["pass", "marginal", "fail", "nodata"]


@dataclass(frozen=True)
class Judged:
    """One metric's comparison with how it counts."""

    name: str
    comparison: MetricComparison
    critical: bool = False
    must_have_data: bool = True


def fails(judged: Judged) -> bool:
    kind = judged.comparison.classification
    return kind in ("high", "low") or (kind == "nodata" and judged.must_have_data)


@dataclass(frozen=True)
class Score:
    value: float | None
    verdict: ScoreVerdict
    counted: int
    passed: int
    critical_failed: tuple[str, ...]
    left_out: tuple[str, ...]
    """Metrics with no data that need not have it."""

    @property
    def holds(self) -> bool:
        return self.verdict == "pass"


def score(
    metrics: Sequence[Judged],
    *,
    pass_threshold: float = DEFAULT_PASS,
    marginal_threshold: float = DEFAULT_MARGINAL,
) -> Score:
    if not 0 <= marginal_threshold <= pass_threshold <= 100:
        raise ValueError(
            f"thresholds must satisfy 0 <= marginal <= pass <= 100, got marginal "
            f"{marginal_threshold} and pass {pass_threshold}"
        )
    left_out = tuple(
        m.name for m in metrics if m.comparison.classification == "nodata" and not m.must_have_data
    )
    counted = [m for m in metrics if m.name not in left_out]
    passed = sum(1 for m in counted if not fails(m))
    critical = tuple(m.name for m in counted if m.critical and fails(m))
    if not counted:
        return Score(None, "nodata", 0, 0, (), left_out)
    value = 0.0 if critical else 100.0 * passed / len(counted)
    verdict: ScoreVerdict = (
        "pass" if value >= pass_threshold else "marginal" if value >= marginal_threshold else "fail"
    )
    return Score(value, verdict, len(counted), passed, critical, left_out)
