"""Control against experiment, one metric: the Mann-Whitney U test, the
Hodges-Lehmann shift with its confidence interval, the ratio of means, and
Kayenta's classification (pass, high, low, no data).

Samples are per request (a latency in ms, or 1/0 for a journey that
succeeded or not), the control cohort's and the experiment cohort's, taken
from the same arrival process and journey mix. NaN and infinite samples are
dropped (and counted); a cohort with no sample left is *no data*.

Classification, for a metric whose bad direction is `increase`, `decrease`
or `either`:

- ``nodata``: a cohort has no sample (or fewer than `min_samples`);
- ``high``: the experiment is significantly higher (the two-sided test's
  p-value under 1 - confidence, the experiment's mean rank above the
  control's) and the ratio of means experiment/control is above the allowed
  increase; reported as ``pass`` when only a decrease is bad;
- ``low``: the same downwards, against the allowed decrease;
- ``pass``: anything else.

Where this differs from Kayenta's MannWhitneyClassifier: Kayenta calls a
difference significant when the Hodges-Lehmann confidence interval excludes
zero. On success samples (0 and 1, mostly ties) that interval is [0, 0]
whatever the two cohorts' success rates, so no failure rate could ever be
told apart; the test's own p-value (scipy, with the tie correction) can.
The interval is still computed and reported as the effect's uncertainty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

__all__ = [
    "DEFAULT_CONFIDENCE",
    "MAX_PAIRS",
    "Classification",
    "Direction",
    "MetricComparison",
    "classify",
    "classify_rates",
    "clean",
    "hodges_lehmann",
    "look_level",
    "sequential_bound",
    "smallest_p",
]

Direction = Literal["increase", "decrease", "either"]
Classification = Literal["pass", "high", "low", "nodata"]

DEFAULT_CONFIDENCE = 0.98
#: Past this many pairwise differences the Hodges-Lehmann estimate is taken over an
#: evenly spaced subsample of each cohort (sorted), so it stays bounded in memory.
MAX_PAIRS = 1_000_000


@dataclass(frozen=True)
class MetricComparison:
    """One metric's comparison at one look."""

    classification: Classification
    control_n: int
    experiment_n: int
    dropped: int
    """NaN or infinite samples left out."""
    control_mean: float | None
    experiment_mean: float | None
    ratio: float | None
    """Mean of the experiment / mean of the control (inf when only the control's is 0)."""
    u_statistic: float | None
    p_value: float | None
    shift: float | None
    """Hodges-Lehmann estimate of experiment - control."""
    shift_low: float | None
    shift_high: float | None
    alpha: float
    """The significance level this look used."""
    reason: str

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < self.alpha


def clean(samples: npt.ArrayLike) -> tuple[np.ndarray, int]:
    """The finite samples as an array, and how many were not."""
    values = np.asarray(samples, dtype=float)
    finite = values[np.isfinite(values)]
    return finite, int(values.size - finite.size)


def _thin(values: np.ndarray, keep: int) -> np.ndarray:
    if values.size <= keep:
        return values
    ordered = np.sort(values)
    picks = np.linspace(0, values.size - 1, keep).round().astype(int)
    return np.asarray(ordered[picks])


def hodges_lehmann(
    control: np.ndarray, experiment: np.ndarray, confidence: float
) -> tuple[float, float, float]:
    """The median of every difference experiment_i - control_j, and its confidence
    interval from the order statistics of those differences (the normal
    approximation of the U distribution, as R's wilcox.test(conf.int=TRUE) does)."""
    if control.size * experiment.size > MAX_PAIRS:
        side = max(2, int(math.sqrt(MAX_PAIRS)))
        control, experiment = _thin(control, side), _thin(experiment, side)
    differences = np.sort(np.subtract.outer(experiment, control).ravel())
    n, m = experiment.size, control.size
    z = float(stats.norm.isf((1 - confidence) / 2))
    if not math.isfinite(z):  # a confidence of 1 (or within float of it): every difference
        z = 0.0 if z < 0 else math.inf
    spread = z * math.sqrt(n * m * (n + m + 1) / 12)
    k = 0 if math.isinf(spread) else int(math.floor(n * m / 2 - spread))
    k = min(max(k, 0), differences.size - 1)
    low = float(differences[k])
    high = float(differences[differences.size - 1 - k])
    return float(np.median(differences)), low, high


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def _ratio(control_mean: float, experiment_mean: float) -> float:
    if control_mean == 0:
        return 1.0 if experiment_mean == 0 else math.inf
    return experiment_mean / control_mean


def classify(
    control_samples: npt.ArrayLike,
    experiment_samples: npt.ArrayLike,
    *,
    direction: Direction = "either",
    allowed_increase: float = 1.0,
    allowed_decrease: float = 1.0,
    confidence: float = DEFAULT_CONFIDENCE,
    alpha: float | None = None,
    min_samples: int = 1,
    with_shift: bool = True,
) -> MetricComparison:
    """Classify the experiment cohort's samples against the control's.

    `allowed_increase` and `allowed_decrease` are ratios of means (1.1: up to 10%
    higher is tolerated; 0.9: up to 10% lower). `alpha` is the significance level
    of this look (default 1 - confidence: a single look); the Hodges-Lehmann
    interval is always at `confidence`, the effect's uncertainty whatever the look.
    `with_shift=False` skips the estimate (a look that only needs the decision)."""
    if not 0.5 <= confidence < 1:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence}")
    if allowed_increase < 1 or not 0 <= allowed_decrease <= 1:
        raise ValueError(
            f"allowed_increase must be >= 1 and allowed_decrease in [0, 1], got "
            f"{allowed_increase} and {allowed_decrease}"
        )
    level = (1 - confidence) if alpha is None else alpha
    control, dropped_control = clean(control_samples)
    experiment, dropped_experiment = clean(experiment_samples)
    dropped = dropped_control + dropped_experiment
    n_control, n_experiment = int(control.size), int(experiment.size)
    base = {
        "control_n": n_control,
        "experiment_n": n_experiment,
        "dropped": dropped,
        "control_mean": _mean(control),
        "experiment_mean": _mean(experiment),
        "alpha": level,
    }
    if min(n_control, n_experiment) < max(1, min_samples):
        return _nodata(
            f"no data: {n_control} control and {n_experiment} experiment samples "
            f"(at least {max(1, min_samples)} each are needed)",
            base,
        )
    best = smallest_p(n_control, n_experiment)
    if best >= level:
        return _nodata(
            f"no data: {n_control} control and {n_experiment} experiment samples can never "
            f"differ significantly at {level:.3g} (the smallest p they can give is {best:.3g})",
            base,
        )
    control_mean, experiment_mean = float(control.mean()), float(experiment.mean())
    ratio = _ratio(control_mean, experiment_mean)
    shift, shift_low, shift_high = (
        hodges_lehmann(control, experiment, confidence) if with_shift else (None, None, None)
    )
    if np.array_equal(np.unique(control), np.unique(experiment)) and np.unique(control).size == 1:
        u, p = float(n_control * n_experiment / 2), 1.0  # all equal: nothing to tell apart
    else:
        result = stats.mannwhitneyu(
            experiment, control, alternative="two-sided", method="asymptotic"
        )
        u, p = float(result.statistic), float(result.pvalue)
    higher = u > n_control * n_experiment / 2  # the experiment's ranks above the control's
    classification, reason = _decide(p, level, higher, ratio, direction, allowed_increase,
                                     allowed_decrease)  # fmt: skip
    return MetricComparison(
        classification, ratio=ratio, u_statistic=u, p_value=p, shift=shift,
        shift_low=shift_low, shift_high=shift_high, reason=reason,
        **base,  # type: ignore[arg-type]
    )  # fmt: skip


def _nodata(reason: str, base: dict[str, Any]) -> MetricComparison:
    return MetricComparison(
        "nodata", ratio=None, u_statistic=None, p_value=None, shift=None, shift_low=None,
        shift_high=None, reason=reason, **base,
    )  # fmt: skip


def smallest_p(n: int, m: int) -> float:
    """The smallest two-sided p scipy's asymptotic Mann-Whitney U test gives two
    samples of n and m distinct values (complete separation, with its continuity
    correction): 0.0122 for 5 and 5. Below it no data could be significant."""
    if n < 1 or m < 1:
        return 1.0
    sigma = math.sqrt(n * m * (n + m + 1) / 12)
    return float(min(1.0, 2 * stats.norm.sf((n * m / 2 - 0.5) / sigma)))


def classify_rates(
    control: tuple[int, float],
    experiment: tuple[int, float],
    *,
    direction: Direction = "either",
    allowed_increase: float = 1.0,
    allowed_decrease: float = 1.0,
    confidence: float = DEFAULT_CONFIDENCE,
    alpha: float | None = None,
) -> MetricComparison:
    """Classify two Poisson counts of events, each over its exposure (members x
    seconds): (events, exposure) per cohort. The test is the exact conditional one:
    given the total, the experiment's events are binomial with its share of the
    exposure (scipy's binomtest, two-sided). Rank tests on per-second counts scaled
    by cohort size cry wolf when the cohorts differ in size (their shapes differ)."""
    level = (1 - confidence) if alpha is None else alpha
    (events_c, exposure_c), (events_e, exposure_e) = control, experiment
    rate_c = events_c / exposure_c if exposure_c > 0 else None
    rate_e = events_e / exposure_e if exposure_e > 0 else None
    base: dict[str, Any] = {
        "control_n": events_c, "experiment_n": events_e, "dropped": 0,
        "control_mean": rate_c, "experiment_mean": rate_e, "alpha": level,
    }  # fmt: skip
    total = events_c + events_e
    if rate_c is None or rate_e is None or total == 0:
        return _nodata(
            f"no data: {events_c} control and {events_e} experiment events (none to compare)",
            base,
        )
    share = exposure_e / (exposure_c + exposure_e)
    best = min(stats.binomtest(0, total, share).pvalue, stats.binomtest(total, total, share).pvalue)
    if best >= level:
        return _nodata(
            f"no data: {total} events can never differ significantly at {level:.3g} "
            f"(the smallest p they can give is {best:.3g})",
            base,
        )
    p = float(stats.binomtest(events_e, total, share).pvalue)
    ratio = _ratio(rate_c, rate_e)
    classification, reason = _decide(p, level, rate_e > rate_c, ratio, direction,
                                     allowed_increase, allowed_decrease)  # fmt: skip
    return MetricComparison(
        classification, ratio=ratio, u_statistic=None, p_value=p, shift=rate_e - rate_c,
        shift_low=None, shift_high=None, reason=reason, **base,
    )  # fmt: skip


def _decide(
    p: float,
    level: float,
    higher: bool,
    ratio: float,
    direction: Direction,
    allowed_increase: float,
    allowed_decrease: float,
) -> tuple[Classification, str]:
    """Kayenta's classification of a tested difference, and why: `high` (`low`) when it
    is significant, upwards (downwards), past the allowed effect and in a bad direction."""
    significant = p < level
    side = "higher" if higher else "lower"
    if significant and higher and ratio > allowed_increase and direction != "decrease":
        return "high", (
            f"the experiment is significantly higher (p={p:.3g} < {level:.3g}) and its "
            f"mean is {ratio:.3g}x the control's, above the {allowed_increase:g}x allowed"
        )
    if significant and not higher and ratio < allowed_decrease and direction != "increase":
        return "low", (
            f"the experiment is significantly lower (p={p:.3g} < {level:.3g}) and its "
            f"mean is {ratio:.3g}x the control's, below the {allowed_decrease:g}x allowed"
        )
    if not significant:
        return "pass", f"no significant difference (p={p:.3g} >= {level:.3g}; ratio {ratio:.3g}x)"
    if (higher and direction == "decrease") or (not higher and direction == "increase"):
        return "pass", (
            f"significantly {side} (p={p:.3g}), the harmless direction (ratio {ratio:.3g}x)"
        )
    return "pass", (
        f"significantly {side} (p={p:.3g}) but within the allowed effect (ratio {ratio:.3g}x)"
    )


def sequential_bound(alpha: float) -> float:
    """The c with P(sup over 0 <= t <= 1 of |B(t)| >= c) = `alpha` for a standard
    Brownian motion B: a test statistic watched continuously, whose B-value
    Z(t) sqrt(t) crosses +-c at any time, is a false alarm at most `alpha` of the
    time, however many looks are taken and whenever (the series is the
    reflection principle's, summed to 1e-12)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")

    def beyond(c: float) -> float:
        inside = sum(
            (-1) ** n / (2 * n + 1) * math.exp(-((2 * n + 1) ** 2) * math.pi**2 / (8 * c * c))
            for n in range(60)
        )
        return float(1 - 4 / math.pi * inside - alpha)

    return float(optimize.brentq(beyond, 0.5, 10.0, xtol=1e-12))


def look_level(alpha: float, fraction: float) -> float:
    """The significance level of a look at `fraction` (0..1] of the planned
    samples, so that every look together is a false alarm at most `alpha` of the
    time: an O'Brien-Fleming-shaped boundary |Z| >= c / sqrt(t) with c from
    continuous monitoring (`sequential_bound`), as a two-sided p-value. Early
    looks need overwhelming evidence; the last (t = 1) needs |Z| >= c
    (2.58 for alpha 0.02, where one look alone needs 2.33)."""
    if fraction <= 0:
        return 0.0
    t = min(fraction, 1.0)
    return float(2 * stats.norm.sf(sequential_bound(alpha) / math.sqrt(t)))
