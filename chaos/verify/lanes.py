"""Lanes: the suite spread over stacks that run side by side (`verify --parallel N`).

Lane i runs on its own stack, on the ports from `base + 10*i` (chaos.runtime.layout).
A game day file's acts stay together, in order, on one lane; the rest are spread
longest-first, each to the lane with the least estimated work so far, so that
lanes finish close together. Within a lane the acts keep their suite order.

A lane plays its acts as `play` does (chaos/gameday/play.py), so its journals
are where `journal_path` says; `lane_results` reads them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chaos.experiment.model import RecoveredWithin
from chaos.explore.exploration import Exploration, Playable
from chaos.gameday import Act, ActResult, journal_path, result_of
from chaos.runtime.layout import BLOCK, parse_port_base

__all__ = [
    "DEFAULT_BASE",
    "STARTUP_SECONDS",
    "estimated_seconds",
    "lane_bases",
    "lane_results",
    "plan_lanes",
]

#: The first lane's port base when neither --port-base nor CHAOSBED_PORT_BASE says one.
DEFAULT_BASE = 20000
#: What an act costs besides its phases (preflight, load start, writing the journal).
STARTUP_SECONDS = 5.0


def estimated_seconds(experiment: Playable) -> float:
    """About how long a run takes: warm-up and hold, the method, the tail after it and
    the recovery (how long the SLOs must hold again, or the `recovered_within` bound);
    an exploration, a few seconds per journey (pairs: ten times as many executions)."""
    if isinstance(experiment, Exploration):
        return STARTUP_SECONDS + len(experiment.journeys) * (2.0 if experiment.depth == 1 else 20.0)
    steady = experiment.steady_state
    windows = max((s.window for s in steady.slos), default=0.0)
    timeout = experiment.load.timeout if experiment.load is not None else 0.0
    bounds = [e.seconds for e in experiment.expect if isinstance(e, RecoveredWithin)]
    recovery = min([windows, *bounds]) if bounds else windows
    return (
        STARTUP_SECONDS
        + steady.warmup
        + steady.hold
        + experiment.method_duration
        + max(windows, timeout)
        + recovery
    )


def lane_bases(base: int, lanes: int) -> tuple[int, ...]:
    """The port base of each lane; ValueError naming what is wrong."""
    if lanes < 1:
        raise ValueError(f"--parallel {lanes}: needs at least 1 lane")
    bases = tuple(base + BLOCK * i for i in range(lanes))
    try:
        parse_port_base(str(bases[-1]))
    except ValueError:
        raise ValueError(
            f"--parallel {lanes} from port base {base}: lane {lanes} would take ports "
            f"{bases[-1]}..{bases[-1] + BLOCK - 1}, past 65535"
        ) from None
    return bases


def plan_lanes(
    acts: Sequence[Act], lanes: int, together: Sequence[Sequence[str]] = ()
) -> tuple[tuple[Act, ...], ...]:
    """The acts of each lane (lanes with nothing to do are left out)."""
    if lanes < 1:
        raise ValueError(f"--parallel {lanes}: needs at least 1 lane")
    order = {act.name: i for i, act in enumerate(acts)}
    grouped: dict[str, int] = {}
    for group, names in enumerate(together):
        for name in names:
            grouped[name] = group
    units: dict[tuple[str, int], list[Act]] = {}
    for act in acts:
        key = ("gameday", grouped[act.name]) if act.name in grouped else ("act", order[act.name])
        units.setdefault(key, []).append(act)

    def weight(unit: list[Act]) -> float:
        return sum(estimated_seconds(a.experiment) for a in unit)

    # longest first; on a tie, the one earlier in the suite
    ranked = sorted(units.values(), key=lambda u: (-weight(u), order[u[0].name]))
    loads = [0.0] * lanes
    assigned: list[list[Act]] = [[] for _ in range(lanes)]
    for unit in ranked:
        lane = min(range(lanes), key=lambda i: (loads[i], i))
        loads[lane] += weight(unit)
        assigned[lane] += unit
    return tuple(tuple(sorted(lane, key=lambda a: order[a.name])) for lane in assigned if lane)


def lane_results(acts: Sequence[Act], directory: Path) -> list[ActResult]:
    """What a lane that played `acts` in order into `directory` got: one result per
    journal written, stopping at the first act without one."""
    results: list[ActResult] = []
    for index, act in enumerate(acts, 1):
        path = journal_path(directory, index, act)
        if not path.is_file():
            break
        results.append(result_of(act, path))
    return results
