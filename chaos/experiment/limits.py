"""The bounds the loader enforces, in one place (docs/experiments.md lists them).

Durations are seconds; rates are per second.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.common.metrics import LATENCY_BUCKETS

__all__ = [
    "ABORT_FOR",
    "BANDWIDTH_KBIT",
    "COMPARE_PLAN_MARGIN",
    "DELAY_MS",
    "HOLD",
    "INSTANCES",
    "LATENCY_CAP_MS",
    "LOAD_MEMBERS",
    "LOAD_RATE",
    "LOAD_TIMEOUT",
    "MAX_METHOD",
    "MAX_ABOVE_BASELINE",
    "MONKEY_BUDGET_WINDOW",
    "MONKEY_HOLD",
    "MONKEY_RECOVER_FOR",
    "MONKEY_MEAN",
    "PERCENT_RANGE",
    "OFFSET",
    "RECOVERED_WITHIN",
    "RETRY_RATIO",
    "RULE_STEP_DURATION",
    "RULE_TTL_MARGIN",
    "RULE_TTL_MAX",
    "SCRAPES_PER_WINDOW",
    "SCRAPE_INTERVALS",
    "SEED",
    "STEP_DURATION",
    "THRESHOLD_MS",
    "WARMUP",
    "WINDOW",
]

STEP_DURATION = (1.0, 3600.0)
OFFSET = (0.0, 3600.0)
MAX_METHOD = 3600.0  # the last step ends at most an hour after the method starts
# An application-layer fault (or stand-in) is a rule whose TTL is its duration plus
# RULE_TTL_MARGIN; the services cap a rule's TTL at RULE_TTL_MAX, so a longer step
# would see its rule expire before it ends.
RULE_TTL_MAX = 3600.0
RULE_TTL_MARGIN = 5.0
RULE_STEP_DURATION = RULE_TTL_MAX - RULE_TTL_MARGIN
WARMUP = (0.0, 600.0)
HOLD = (0.0, 600.0)
WINDOW = (1.0, 600.0)
ABORT_FOR = (0.0, 600.0)
RECOVERED_WITHIN = (1.0, 1800.0)

LOAD_RATE = (0.0, 1000.0)  # more than 0, at most 1000 arrivals per second
LOAD_MEMBERS = (1, 1_000_000)
LOAD_TIMEOUT = (0.05, 60.0)
SEED = (0, 2**63 - 1)

DELAY_MS = (0.0, 60_000.0)  # as the services' control API accepts
THRESHOLD_MS = (0.0, 600_000.0)  # a latency objective, more than 0
BANDWIDTH_KBIT = (1, 10_000_000)
INSTANCES = (1, 100)
MAX_ABOVE_BASELINE = 1000.0  # a relative objective may allow up to 11x the baseline
RETRY_RATIO = (0.0, 1.0)

# What a reading can be. An availability is a percentage. A latency is a quantile
# of a histogram with the services' buckets (the load generator's member-side
# histogram has the same ones): a quantile that falls above the largest finite
# bucket is reported as that bucket's bound, so no latency reading exceeds it.
PERCENT_RANGE = (0.0, 100.0)
# How often each runtime's Prometheus scrapes, in seconds: the process runtime's
# config is written from this (chaos/runtime/prometheus/config.py); the docker
# runtime's is compose/prometheus/prometheus.yml's global scrape_interval (a
# test checks the file says so). The runner's own scrape backend defaults to
# the process runtime's.
SCRAPE_INTERVALS: Mapping[str, float] = {"process": 1.0, "docker": 2.0, "cluster": 2.0}
LATENCY_CAP_MS = max(LATENCY_BUCKETS) * 1000.0
# A windowed rate or increase needs at least two scrapes inside its window, so a
# window is at least this many scrape intervals of the slowest Prometheus that
# may read it (SCRAPE_INTERVALS, by runtime).
SCRAPES_PER_WINDOW = 2

#: A cohort comparison's looks plan for this many times the method and its tail (and
#: a second): slow injections and rollbacks may run past the plan, and a look past it
#: would be held to a level the boundary's false-alarm rate does not cover.
COMPARE_PLAN_MARGIN = 1.1

# A monkey step: the mean time between its actions, and how long each holds.
MONKEY_MEAN = (0.5, 3600.0)
MONKEY_HOLD = (0.1, 600.0)
#: A monkey step's guard: the window its budget burn is read over (at least two
#: scrapes of the docker stack's 2 s Prometheus, which the runtime checks again at
#: injection), and the calm it waits for before it resumes.
MONKEY_BUDGET_WINDOW = (4.0, 3600.0)
MONKEY_RECOVER_FOR = (0.0, 3600.0)
