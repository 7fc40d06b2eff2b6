"""One-line descriptions of the parts of an experiment, for plans and journals."""

from __future__ import annotations

from .durations import format_duration
from .model import (
    AbortCondition,
    AppFault,
    Availability,
    BreakerClosed,
    BreakerOpened,
    BulkheadRefused,
    CompareMetric,
    Expectation,
    FallbackServed,
    Fault,
    HistoryHolds,
    Latency,
    LoadSpec,
    MonkeyFault,
    MonkeyHalts,
    NetworkFault,
    NodeFault,
    NoFault,
    ProcessFault,
    RecoveredWithin,
    RetriesWithinBudget,
    Slo,
)

__all__ = [
    "describe_abort",
    "describe_expectation",
    "describe_fault",
    "describe_load",
    "describe_slo_goal",
]


def _percent(value: float) -> str:
    return f"{value:g}%"


def _control(load: LoadSpec) -> str:
    if load.control_percent is None:
        return ""
    rest = 100 - load.experiment_percent - load.control_percent
    return f", {_percent(load.control_percent)} in the control cohort, {_percent(rest)} in none"


def describe_compare_metric(metric: CompareMetric) -> str:
    """`latency of homepage, bad when it increases past 1.25x (critical) at 98%`."""
    what = {
        "success": f"success of {metric.journey}",
        "latency": f"latency of {metric.journey}",
        "starts_per_second": "starts per second",
        "promql": f"{metric.query} every {format_duration(metric.every)}",
    }[metric.metric]
    limits = []
    if metric.direction in ("increase", "either"):
        limits.append(f"increases past {metric.allowed_increase:g}x")
    if metric.direction in ("decrease", "either"):
        limits.append(f"decreases past {metric.allowed_decrease:g}x")
    flags = [f"at {metric.confidence * 100:g}%"]
    flags += ["critical: stops the method"] if metric.critical else []
    flags += [] if metric.must_have_data else ["may have no data"]
    return f"{what}, bad when it {' or '.join(limits)} ({', '.join(flags)})"


def describe_load(load: LoadSpec | None) -> str:
    if load is None:
        return "none generated (the experiment relies on traffic from elsewhere)"
    total = sum(load.mix.values())
    mix = ", ".join(
        f"{journey} {_percent(round(100 * weight / total, 1))}"
        for journey, weight in load.mix.items()
        if weight
    )
    seed = "" if load.seed is None else f", seed {load.seed}"
    return (
        f"{load.rate:g} members/s open-loop ({mix}); {load.members} members, "
        f"{_percent(load.experiment_percent)} in the experiment cohort{_control(load)}; "
        f"timeout {format_duration(load.timeout)}{seed}"
    )


def describe_slo_goal(slo: Slo) -> str:
    """`availability of playback (edge) >= 99.5% over 10s`."""
    indicator = slo.indicator
    if isinstance(indicator, Availability | Latency):
        route = f" {indicator.route}" if indicator.route else ""
        cohort = f", {indicator.cohort} cohort" if indicator.cohort else ""
        where = f"{indicator.service}{route} (seen at the {indicator.source}{cohort})"
        what = (
            f"availability of {where}"
            if isinstance(indicator, Availability)
            else f"p{indicator.percentile:g} latency of {where}"
        )
        unit = "%" if isinstance(indicator, Availability) else "ms"
    else:
        what, unit = f"PromQL {indicator.query!r}", ""
    objective = slo.objective
    if objective.relative_percent is None:
        goal = f"{objective.op} {objective.threshold:g}{unit}"
    elif objective.op in ("<", "<="):
        goal = f"at most {_percent(objective.relative_percent)} above its steady-state baseline"
    else:
        goal = f"at most {_percent(objective.relative_percent)} below its steady-state baseline"
    return f"{what} {goal}, over {format_duration(slo.window)}"


def _who(fault: AppFault) -> str:
    share = "" if fault.percent >= 100 else f" {_percent(fault.percent)} of"
    cohort = "" if fault.cohort == "any" else f" ({fault.cohort} cohort)"
    if fault.edge is not None:
        return f"on{share} calls {fault.edge}{cohort}"
    route = fault.route or "every route"
    method = f"{fault.method} " if fault.method else ""
    return f"on{share} requests to {fault.target} {method}{route}{cohort}"


def describe_fault(fault: Fault) -> str:
    if isinstance(fault, AppFault):
        if fault.kind == "latency":
            jitter = f" ±{fault.jitter_ms:g}ms" if fault.jitter_ms else ""
            return f"latency {fault.delay_ms:g}ms{jitter} {_who(fault)}"
        if fault.kind == "error":
            return f"error {fault.status} {_who(fault)}"
        return f"{fault.kind} {_who(fault)}"
    if isinstance(fault, ProcessFault):
        if fault.instances is not None:
            which = f"{fault.instances} instance{'s' if fault.instances != 1 else ''} of"
        elif fault.instances_percent is not None:
            which = f"{_percent(fault.instances_percent)} of the instances of"
        else:
            which = "every instance of"
        if fault.kind == "deploy":
            release = ", ".join(f"{k}={v}" for k, v in fault.env)
            return f"deploy {release} to {which} {fault.target}"
        return f"{fault.kind} {which} {fault.target}"
    if isinstance(fault, NoFault):
        return "no fault (A/A: the cohorts compared as they are)"
    if isinstance(fault, MonkeyFault):
        return describe_monkey(fault)
    if isinstance(fault, NodeFault) and fault.kind == "node_stop":
        return f"stop the node of region {fault.region} (every pod on it)"
    if isinstance(fault, NodeFault) and fault.kind == "node_drain":
        return f"drain the node of region {fault.region} (cordon it, evict its pods)"
    if isinstance(fault, NodeFault):
        return f"cut the node of region {fault.region} off from the other nodes"
    return _describe_network(fault)


def describe_monkey(fault: MonkeyFault) -> str:
    menu = ", ".join(f"{kind} {weight:g}" for kind, weight in fault.menu if weight > 0)
    on = ", ".join(fault.targets) if fault.targets else "the opted-in services"
    at_once = "" if fault.max_at_once == 1 else f", up to {fault.max_at_once} at once"
    return (
        f"monkey: about every {format_duration(fault.mean_s)} one of ({menu}) on {on}, "
        f"held {format_duration(fault.hold_s)}{at_once} (seed {fault.seed})"
    )


def _describe_network(fault: NetworkFault) -> str:
    where = str(fault.edge) if fault.edge is not None else str(fault.target)
    if fault.kind == "partition":
        if fault.between is not None:
            first, second = fault.between
            return f"partition [{', '.join(first)}] from [{', '.join(second)}], both ways"
        assert fault.from_ is not None and fault.to is not None
        return f"partition one way: [{', '.join(fault.from_)}] cannot reach [{', '.join(fault.to)}]"
    if fault.kind == "isolate":
        return f"isolate {fault.target} from every other service"
    if fault.kind == "loss":
        return f"packet loss {_percent(fault.percent)} at {where}"
    if fault.kind == "bandwidth":
        return f"bandwidth limited to {fault.rate_kbit} kbit/s at {where}"
    jitter = f" ±{fault.jitter_ms:g}ms" if fault.jitter_ms else ""
    return f"network latency {fault.delay_ms:g}ms{jitter} (netem) at {where}"


def describe_abort(abort: AbortCondition) -> str:
    limits = []
    if abort.below is not None:
        limits.append(f"below {abort.below:g}")
    if abort.above is not None:
        limits.append(f"above {abort.above:g}")
    held = f" for {format_duration(abort.for_)}" if abort.for_ else ""
    return f"{abort.slo} {' or '.join(limits)}{held}"


def describe_expectation(expectation: Expectation) -> str:
    if isinstance(expectation, BreakerOpened):
        return f"the breaker on {expectation.edge} opened"
    if isinstance(expectation, BreakerClosed):
        return f"the breaker on {expectation.edge} is closed again"
    if isinstance(expectation, BulkheadRefused):
        return f"the bulkhead on {expectation.edge} refused calls"
    if isinstance(expectation, FallbackServed):
        which = f"fallback {expectation.fallback}" if expectation.fallback else "a fallback"
        return f"{expectation.service} served {which}"
    if isinstance(expectation, RetriesWithinBudget):
        return (
            f"retries of {expectation.service} stayed within "
            f"{_percent(expectation.ratio * 100)} of its first tries in every budget window"
        )
    if isinstance(expectation, HistoryHolds):
        return (
            f"the profiles history has at most {expectation.lost} lost and"
            f" {expectation.partial} partial operations, replicas converged within"
            f" {format_duration(expectation.converged_within)}"
        )
    if isinstance(expectation, MonkeyHalts):
        return (
            f"the monkey halts itself within {format_duration(expectation.within)} of"
            f" {expectation.after} starting, and injects nothing while halted"
        )
    assert isinstance(expectation, RecoveredWithin)
    return f"every SLO holds again within {format_duration(expectation.seconds)} of the rollback"
