"""Reading `steady_state` (its SLOs) and `abort_when` from the document."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal, cast

from . import limits
from .document import Node
from .fields import Fields, Problems, nearest
from .model import (
    AbortCondition,
    Availability,
    Indicator,
    Latency,
    Objective,
    PromQL,
    SliSource,
    Slo,
    SteadyState,
)
from .read_compare import read_compare
from .topology import ROUTES

__all__ = ["read_aborts", "read_steady_state"]

DEFAULT_WARMUP = 10.0
INDICATORS = ("availability", "latency", "promql")
SOURCES: tuple[SliSource, ...] = ("edge", "members", "server")
# an SLI may be limited to one cohort of members (the blast radius)
COHORTS = ("experiment", "control")
ABOVE_BASELINE = "max_percent_above_baseline"
BELOW_BASELINE = "max_percent_below_baseline"
# the thresholds each indicator takes, and the comparison each one means
THRESHOLDS: dict[str, dict[str, Literal["<", "<=", ">", ">="]]] = {
    "availability": {"objective": ">=", BELOW_BASELINE: ">="},
    "latency": {"below_ms": "<", ABOVE_BASELINE: "<="},
    "promql": {"below": "<", "above": ">", ABOVE_BASELINE: "<=", BELOW_BASELINE: ">="},
}
ALL_THRESHOLDS = ("objective", "below_ms", "below", "above", ABOVE_BASELINE, BELOW_BASELINE)
SLO_KEYS = ("name", "window", *INDICATORS, *ALL_THRESHOLDS)
MAX_QUERY = 4096
ANY_VALUE = (-1e15, 1e15)


def read_steady_state(node: Node, problems: Problems) -> SteadyState | None:
    values = problems.mapping(node, "the steady state")
    if values is None:
        return None
    fields = Fields(node, values, problems, ("warmup", "hold", "slos", "compare"))
    warmup_node, hold_node = fields.get("warmup"), fields.get("hold")
    warmup = (
        DEFAULT_WARMUP if warmup_node is None else problems.duration(warmup_node, *limits.WARMUP)
    )
    hold = 5.0 if hold_node is None else problems.duration(hold_node, *limits.HOLD)
    slos_node = fields.require("slos", "the SLOs that must hold before and during the method")
    slos = None if slos_node is None else _read_slos(slos_node, problems)
    compare_node = fields.get("compare")
    compare = None if compare_node is None else read_compare(compare_node, problems)
    if warmup is None or hold is None or slos is None:
        return None
    if compare_node is not None and compare is None:
        return None
    return SteadyState(warmup=warmup, slos=slos, hold=hold, compare=compare)


def _read_slos(node: Node, problems: Problems) -> tuple[Slo, ...] | None:
    items = problems.items(node, "SLOs")
    if items is None:
        return None
    if not items:
        problems.at(node, "expected at least one SLO")
        return None
    slos = [read_slo(item, problems) for item in items]
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        name_node = item.mapping.get("name") if item.mapping else None
        if name_node is None or not isinstance(name_node.value, str):
            continue
        name = name_node.value.strip()
        if name in seen:
            problems.at(name_node, f"{name!r} is already the name of {node.path}[{seen[name]}]")
        else:
            seen[name] = index
    if any(slo is None for slo in slos):
        return None
    return tuple(slo for slo in slos if slo is not None)


def read_slo(node: Node, problems: Problems) -> Slo | None:
    values = problems.mapping(node, "an SLO")
    if values is None:
        return None
    fields = Fields(node, values, problems, SLO_KEYS)
    name_node = fields.require("name", "a name for the SLO, unique in the experiment")
    name = None if name_node is None else problems.name(name_node)
    window_node = fields.get("window")
    window = 10.0 if window_node is None else problems.duration(window_node, *limits.WINDOW)
    given = [key for key in INDICATORS if fields.has(key)]
    if len(given) != 1:
        where = values[given[1]] if len(given) > 1 else node
        problems.add(
            where.line,
            where.path if len(given) > 1 else f"{node.path}.availability",
            f"an SLO has exactly one indicator: availability, latency or promql; got {len(given)}",
        )
        return None
    kind = given[0]
    indicator = _read_indicator(kind, values[kind], problems)
    objective = _read_objective(kind, node, fields, problems)
    if name is None or window is None or indicator is None or objective is None:
        return None
    return Slo(name=name, indicator=indicator, objective=objective, window=window)


def _read_indicator(kind: str, node: Node, problems: Problems) -> Indicator | None:
    if kind == "promql":
        query = problems.text(node, "a PromQL expression", MAX_QUERY)
        return None if query is None else PromQL(query)
    if isinstance(node.value, str):  # `availability: playback`
        service = problems.service(node)
        if service is None:
            return None
        if kind == "latency":
            problems.at(node, "a latency SLO needs a mapping with service and percentile")
            return None
        return Availability(service)
    values = problems.mapping(node, f"the {kind} indicator")
    if values is None:
        return None
    keys: tuple[str, ...] = ("service", "route", "source", "cohort")
    keys += ("percentile",) if kind == "latency" else ()
    fields = Fields(node, values, problems, keys)
    service_node = fields.require("service", "the service it measures")
    service = None if service_node is None else problems.service(service_node)
    route_ok, route = _read_route(fields.get("route"), service, problems)
    source_node = fields.get("source")
    source = "edge" if source_node is None else problems.choice(source_node, SOURCES)
    route_node = fields.get("route")
    if route is not None and source == "edge" and route_node is not None:
        problems.at(
            route_node,
            "a route needs source: members or source: server: callers' dependency metrics "
            "carry no route, so no backend could read this SLI",
        )
        route_ok = False
    cohort_node = fields.get("cohort")
    cohort = None
    if cohort_node is not None:
        cohort = problems.choice(cohort_node, COHORTS)
        if cohort is not None and source == "edge":
            problems.at(
                cohort_node,
                "a cohort needs source: members or source: server "
                "(callers' dependency metrics carry no cohort)",
            )
            cohort = None
        elif cohort is None:
            return None
    if kind == "latency":
        percentile_node = fields.require("percentile", "which percentile, e.g. 99")
        percentile = None
        if percentile_node is not None:
            percentile = problems.number(percentile_node, 0, 100, above=True)
        if service is None or not route_ok or source is None or percentile is None:
            return None
        return Latency(service, percentile, route, cast(SliSource, source), cohort)
    if service is None or not route_ok or source is None:
        return None
    return Availability(service, route, cast(SliSource, source), cohort)


def _read_route(
    node: Node | None, service: str | None, problems: Problems
) -> tuple[bool, str | None]:
    """(readable, the route template or None when not given)."""
    if node is None:
        return True, None
    if service is None:
        return False, None
    route = problems.choice(node, ROUTES[service], f"a route of {service}:")
    return route is not None, route


def _read_objective(kind: str, node: Node, fields: Fields, problems: Problems) -> Objective | None:
    valid = THRESHOLDS[kind]
    given = [key for key in ALL_THRESHOLDS if fields.has(key)]
    for key in given:
        if key not in valid:
            value = fields.values[key]
            problems.add(
                node.key_lines.get(key, value.line),
                value.path,
                f"does not apply to a {kind} SLO (it takes one of: {', '.join(valid)})",
            )
    usable = [key for key in given if key in valid]
    if len(usable) != 1:
        if len(usable) > 1:
            second = fields.values[usable[1]]
            problems.at(second, f"give one threshold, not both {usable[0]} and {usable[1]}")
        elif not given:
            problems.add(
                node.line,
                f"{node.path}.{next(iter(valid))}",
                f"is required: a threshold for the {kind} SLO (one of: {', '.join(valid)})",
            )
        return None
    key = usable[0]
    value_node = fields.values[key]
    op = valid[key]
    if key == ABOVE_BASELINE:
        relative = problems.number(value_node, 0, limits.MAX_ABOVE_BASELINE, unit="%")
        return None if relative is None else Objective(op, relative_percent=relative)
    if key == BELOW_BASELINE:
        relative = problems.percent(value_node)
        if relative == 100 and kind == "availability":
            problems.at(
                value_node,
                "can never be breached: the limit is the baseline x (1 - 100/100) = 0%, and no "
                "availability is below 0; give less than 100",
            )
            return None
        return None if relative is None else Objective(op, relative_percent=relative)
    if key == "objective":
        threshold = problems.percent(value_node)
        if threshold == 0:
            problems.at(
                value_node,
                "can never be breached: every availability is 0% or more; "
                "give an objective above 0",
            )
            return None
    elif key == "below_ms":
        threshold = problems.number(value_node, *limits.THRESHOLD_MS, unit="ms", above=True)
        if threshold is not None and threshold > limits.LATENCY_CAP_MS:
            cap = f"{limits.LATENCY_CAP_MS:g}ms"
            problems.at(
                value_node,
                f"can never be breached: no latency reading exceeds {cap}, the largest finite "
                f"bucket of the latency histograms (a quantile above it is reported as {cap}); "
                f"give at most {limits.LATENCY_CAP_MS:g}",
            )
            return None
    else:
        threshold = problems.number(value_node, *ANY_VALUE)
    return None if threshold is None else Objective(op, threshold=threshold)


def read_aborts(
    node: Node, problems: Problems, slos: Collection[str] | None
) -> tuple[AbortCondition, ...] | None:
    """`abort_when`; `slos` are the SLO names (None when the steady state was unreadable)."""
    items = problems.items(node, "abort conditions")
    if items is None:
        return None
    aborts = [_read_abort(item, problems, slos) for item in items]
    if any(abort is None for abort in aborts):
        return None
    return tuple(abort for abort in aborts if abort is not None)


def _read_abort(
    node: Node, problems: Problems, slos: Collection[str] | None
) -> AbortCondition | None:
    values = problems.mapping(node, "an abort condition")
    if values is None:
        return None
    fields = Fields(node, values, problems, ("slo", "below", "above", "for"))
    slo_node = fields.require("slo", "the name of an SLO of steady_state.slos")
    slo = None if slo_node is None else problems.text(slo_node, "an SLO name")
    if slo_node is not None and slo is not None and slos is not None and slo not in slos:
        known = ", ".join(dict.fromkeys(slos)) or "none"
        problems.at(slo_node, f"no SLO is called {slo!r}{nearest(slo, slos)} (SLOs: {known})")
        slo = None
    below_node, above_node = fields.get("below"), fields.get("above")
    below = None if below_node is None else problems.number(below_node, *ANY_VALUE)
    above = None if above_node is None else problems.number(above_node, *ANY_VALUE)
    if below_node is None and above_node is None:
        problems.add(
            node.line,
            f"{node.path}.below",
            "is required: below or above (or both), the value that aborts",
        )
        return None
    for_node = fields.get("for")
    for_ = 0.0 if for_node is None else problems.duration(for_node, *limits.ABORT_FOR)
    bad = (below_node is not None and below is None) or (above_node is not None and above is None)
    if slo is None or for_ is None or bad:
        return None
    return AbortCondition(slo=slo, below=below, above=above, for_=for_)
