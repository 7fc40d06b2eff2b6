"""Refusing, at load time, what could pass without evidence: the checks that need
more than one part of the experiment, made once every part has been read.

- An SLO window that holds fewer than two scrapes of the slowest Prometheus
  that may read it: its rate has no data at most readings.
- An abort condition that no reading can make true (it never fires), that every
  reading makes true (it fires at the first one), given the range of the SLI;
  or whose `for` is longer than the method, so it can never last that long.
- An application fault that can match nothing given the load: for a cohort none
  of its members is in, on a route or an edge no journey of its mix calls; a
  network fault on such an edge.
- An availability or latency SLI the load sends no request to: it has no data.

The checks of one threshold alone (an objective of 0, a latency bound above
the histograms' cap, a relative limit of 0) are made where it is read
(`read_slos`); an application fault on 0% of requests, in `read_faults`.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import limits
from .document import Node
from .durations import format_duration
from .fields import Problems
from .model import (
    AbortCondition,
    AppFault,
    Availability,
    Experiment,
    HistoryHolds,
    Indicator,
    Latency,
    LoadSpec,
    NetworkFault,
    Slo,
    Step,
)
from .reach import Reach, journeys_calling, reach_of

__all__ = ["refuse_unjudgeable", "sli_range"]


def sli_range(indicator: Indicator) -> tuple[float, float] | None:
    """Every value a reading of the SLI can take, or None when nothing is known (PromQL)."""
    if isinstance(indicator, Availability):
        return limits.PERCENT_RANGE
    if isinstance(indicator, Latency):
        return 0.0, limits.LATENCY_CAP_MS
    return None


def _unit(indicator: Indicator) -> str:
    return "%" if isinstance(indicator, Availability) else "ms"


def _why_range(indicator: Indicator) -> str:
    if isinstance(indicator, Availability):
        return "an availability is a percentage, from 0 to 100"
    return (
        f"a latency reading is from 0 to {limits.LATENCY_CAP_MS:g}ms: every quantile is "
        f"capped at the largest finite bucket of the latency histograms"
    )


def _child(node: Node, key: str) -> Node:
    """The value of `key` in the mapping `node`, or `node` itself when it was not written."""
    mapping = node.mapping or {}
    return mapping.get(key, node)


def _items(node: Node | None, count: int) -> Sequence[Node] | None:
    items = None if node is None else node.items
    return items if items is not None and len(items) == count else None


def refuse_unjudgeable(
    experiment: Experiment,
    problems: Problems,
    *,
    slos: Node | None,
    method: Node | None,
    aborts: Node | None,
) -> None:
    """Note a problem for every part of `experiment` that could pass without evidence;
    the nodes are the document's `steady_state.slos`, `method` and `abort_when`."""
    slo_nodes = _items(slos, len(experiment.steady_state.slos))
    if slo_nodes is not None:
        _windows(experiment, slo_nodes, problems)
    abort_nodes = _items(aborts, len(experiment.abort_when))
    if abort_nodes is not None:
        by_name = {slo.name: slo for slo in experiment.steady_state.slos}
        for abort, node in zip(experiment.abort_when, abort_nodes, strict=True):
            _abort(abort, by_name[abort.slo], node, experiment.method_duration, problems)
    if experiment.load is None:
        return  # the runner sends no traffic: what reaches the stack is not known here
    history = any(isinstance(e, HistoryHolds) for e in experiment.expect)
    reach = reach_of(experiment.load, history=history)
    step_nodes = _items(method, len(experiment.method))
    if step_nodes is not None:
        for step, node in zip(experiment.method, step_nodes, strict=True):
            _fault(step, node, experiment.load, reach, problems)
    if slo_nodes is not None:
        for slo, node in zip(experiment.steady_state.slos, slo_nodes, strict=True):
            _sli_reached(slo, node, experiment.load, reach, problems)


# ---------------------------------------------------------------- windows


def _windows(experiment: Experiment, nodes: Sequence[Node], problems: Problems) -> None:
    runtimes = experiment.runtimes or tuple(limits.SCRAPE_INTERVALS)
    slowest = max(runtimes, key=lambda runtime: limits.SCRAPE_INTERVALS[runtime])
    interval = limits.SCRAPE_INTERVALS[slowest]
    shortest = limits.SCRAPES_PER_WINDOW * interval
    for slo, node in zip(experiment.steady_state.slos, nodes, strict=True):
        if isinstance(slo.indicator, Availability | Latency) and slo.window < shortest:
            problems.at(
                _child(node, "window"),
                f"a {format_duration(slo.window)} window is shorter than "
                f"{limits.SCRAPES_PER_WINDOW} scrapes of the {slowest} runtime's Prometheus "
                f"(every {format_duration(interval)}): a rate needs {limits.SCRAPES_PER_WINDOW} "
                f"samples in its window, so most readings would have no data; "
                f"give at least {format_duration(shortest)}",
            )


# ---------------------------------------------------------------- abort conditions


def _abort(abort: AbortCondition, slo: Slo, node: Node, method: float, problems: Problems) -> None:
    indicator = slo.indicator
    span = sli_range(indicator)
    below, above = abort.below, abort.above
    sided_ok = True
    if span is not None:
        lo, hi = span
        unit = _unit(indicator)
        if below is not None and below <= lo:
            problems.at(
                _child(node, "below"),
                f"can never be true: no reading of {slo.name} is below {lo:g}{unit} "
                f"({_why_range(indicator)}); this condition would never fire",
            )
            sided_ok = False
        elif below is not None and below > hi:
            problems.at(
                _child(node, "below"),
                f"is true at every reading: every reading of {slo.name} is below "
                f"{below:g}{unit} ({_why_range(indicator)}); this condition would fire at once",
            )
            sided_ok = False
        if above is not None and above >= hi:
            problems.at(
                _child(node, "above"),
                f"can never be true: no reading of {slo.name} is above {hi:g}{unit} "
                f"({_why_range(indicator)}); this condition would never fire",
            )
            sided_ok = False
        elif above is not None and above < lo:
            problems.at(
                _child(node, "above"),
                f"is true at every reading: every reading of {slo.name} is above "
                f"{above:g}{unit} ({_why_range(indicator)}); this condition would fire at once",
            )
            sided_ok = False
    if sided_ok and below is not None and above is not None and above < below:
        problems.at(
            _child(node, "above"),
            f"with below: {below:g}, is true at every reading: every value is below "
            f"{below:g} or above {above:g}; this condition would fire at once",
        )
    if abort.for_ > method:
        problems.at(
            _child(node, "for"),
            f"can never be met: the condition would have to last {format_duration(abort.for_)}, "
            f"but the method, the only time abort conditions are watched, lasts "
            f"{format_duration(method)}; give a for shorter than the method",
        )


# ---------------------------------------------------------------- faults


def _weights(journeys: list[str]) -> str:
    """Why the journeys that would call something do not: they weigh 0 in the mix."""
    if not journeys:
        return "no journey calls it"
    if len(journeys) == 1:
        return f"{journeys[0]}, the journey that calls it, has weight 0"
    names = f"{', '.join(journeys[:-1])} and {journeys[-1]}"
    return f"{names}, the journeys that call it, have weight 0"


def _no_members(load: LoadSpec, cohort: str) -> str:
    return (
        f"none of the load's {load.members} members is in the {cohort} cohort "
        f"(experiment_percent: {load.experiment_percent:g})"
    )


def _fault(step: Step, node: Node, load: LoadSpec, reach: Reach, problems: Problems) -> None:
    fault = step.fault
    if isinstance(fault, NetworkFault) and fault.edge is not None:
        if fault.edge not in reach.edges:
            problems.at(
                _child(node, "edge"),
                f"no journey in the load's mix calls {fault.edge} "
                f"({_weights(journeys_calling(fault.edge.caller, edge=fault.edge))}): "
                f"the fault would touch no request",
            )
        return
    if not isinstance(fault, AppFault):
        return
    if fault.cohort != "any" and fault.cohort not in reach.cohorts:
        problems.at(
            _child(node, "cohort"),
            f"{_no_members(load, fault.cohort)}: the rule can match no request",
        )
    if fault.edge is not None and fault.edge not in reach.edges:
        problems.at(
            _child(node, "edge"),
            f"no journey in the load's mix calls {fault.edge} "
            f"({_weights(journeys_calling(fault.edge.caller, edge=fault.edge))}): "
            f"the rule can match no request",
        )
    if fault.target is not None and not reach.route(fault.target, fault.route):
        where = f"{fault.target} {fault.route}" if fault.route else fault.target
        problems.at(
            _child(node, "route" if fault.route else "target"),
            f"no journey in the load's mix calls {where} "
            f"({_weights(journeys_calling(fault.target, fault.route))}): "
            f"the rule can match no request",
        )


# ---------------------------------------------------------------- SLIs


def _sli_reached(slo: Slo, node: Node, load: LoadSpec, reach: Reach, problems: Problems) -> None:
    indicator = slo.indicator
    if not isinstance(indicator, Availability | Latency):
        return
    kind = "availability" if isinstance(indicator, Availability) else "latency"
    where = _child(node, kind)
    service, route = indicator.service, indicator.route
    if indicator.source == "members":
        reached = reach.entry(service, route)
    elif indicator.source == "server":
        reached = reach.route(service, route)
    else:  # edge: the load generator's requests to it, and its callers' calls
        called = any(e.dependency == service for e in reach.edges)
        reached = reach.entry(service, route) or called
    if not reached:
        what = f"{service} {route}" if route else service
        problems.at(
            where,
            f"no request of the load reaches {what} where source: {indicator.source} measures "
            f"it ({_weights(journeys_calling(service, route))}): this SLO would have no data",
        )
    if indicator.cohort is not None and indicator.cohort not in reach.cohorts:
        problems.at(
            _child(where, "cohort"),
            f"{_no_members(load, indicator.cohort)}: this SLO would have no data",
        )
