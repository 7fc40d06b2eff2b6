"""An `Experiment` back into the YAML format, for journals and for tests.

`load_experiment_text(dump_experiment(e))` equals `e` (but for `source`):
every step's `offset` is written out, and a step name is left out only when
it is the one the loader would give it.
"""

from __future__ import annotations

from typing import Any

import yaml

from .model import (
    AppFault,
    Availability,
    BreakerClosed,
    BreakerOpened,
    BulkheadRefused,
    Compare,
    CompareMetric,
    Expectation,
    Experiment,
    FallbackServed,
    HistoryHolds,
    Latency,
    LoadSpec,
    MonkeyFault,
    MonkeyHalts,
    NetworkFault,
    NodeFault,
    ProcessFault,
    RecoveredWithin,
    RetriesWithinBudget,
    Slo,
    Step,
)

__all__ = ["dump_experiment", "experiment_document"]


def dump_experiment(experiment: Experiment) -> str:
    # non-ASCII is escaped: PyYAML would fold line separators such as U+0085 in a
    # plain scalar, and the text would not come back as written
    return yaml.safe_dump(experiment_document(experiment), sort_keys=False)


def experiment_document(experiment: Experiment) -> dict[str, Any]:
    """The experiment as the plain mapping its YAML file holds."""
    document: dict[str, Any] = {"title": experiment.title, "hypothesis": experiment.hypothesis}
    if experiment.load is not None:
        document["load"] = _load(experiment.load)
    steady = experiment.steady_state
    document["steady_state"] = {
        "warmup": steady.warmup,
        "hold": steady.hold,
        "slos": [_slo(slo) for slo in steady.slos],
    }
    if steady.compare is not None:
        document["steady_state"]["compare"] = _compare(steady.compare)
    document["method"] = [_step(index, step) for index, step in enumerate(experiment.method)]
    if experiment.abort_when:
        document["abort_when"] = [
            {"slo": abort.slo, "for": abort.for_}
            | ({"below": abort.below} if abort.below is not None else {})
            | ({"above": abort.above} if abort.above is not None else {})
            for abort in experiment.abort_when
        ]
    if experiment.expect:
        document["expect"] = [_expectation(expectation) for expectation in experiment.expect]
    document["predicts"] = experiment.predicts
    if experiment.runtimes:
        document["runtimes"] = list(experiment.runtimes)
    if experiment.tags:
        document["tags"] = list(experiment.tags)
    if experiment.covers:
        document["covers"] = list(experiment.covers)
    return document


def _compare(compare: Compare) -> dict[str, Any]:
    return {
        "pass": compare.pass_score,
        "marginal": compare.marginal_score,
        "metrics": [compare_metric_document(m) for m in compare.metrics],
    }


def compare_metric_document(metric: CompareMetric) -> dict[str, Any]:
    """A compared metric as its YAML mapping holds it (the journal keeps it too)."""
    document: dict[str, Any] = {"name": metric.name, "metric": metric.metric}
    if metric.metric == "promql":
        document |= {"query": metric.query, "every": metric.every}
    elif metric.metric != "starts_per_second":
        document["journey"] = metric.journey
    return document | {
        "direction": metric.direction,
        "allowed_increase": metric.allowed_increase,
        "allowed_decrease": metric.allowed_decrease,
        "critical": metric.critical,
        "must_have_data": metric.must_have_data,
        "confidence": metric.confidence,
    }


def _load(load: LoadSpec) -> dict[str, Any]:
    document: dict[str, Any] = {
        "rate": load.rate,
        "mix": dict(load.mix),
        "experiment_percent": load.experiment_percent,
        "members": load.members,
        "timeout": load.timeout,
    }
    if load.control_percent is not None:
        document["control_percent"] = load.control_percent
    if load.seed is not None:
        document["seed"] = load.seed
    return document


# (indicator kind, op, relative) -> the key that writes the threshold
_THRESHOLD_KEYS = {
    ("availability", ">=", False): "objective",
    ("availability", ">=", True): "max_percent_below_baseline",
    ("latency", "<", False): "below_ms",
    ("latency", "<=", True): "max_percent_above_baseline",
    ("promql", "<", False): "below",
    ("promql", ">", False): "above",
    ("promql", "<=", True): "max_percent_above_baseline",
    ("promql", ">=", True): "max_percent_below_baseline",
}


def _slo(slo: Slo) -> dict[str, Any]:
    indicator = slo.indicator
    document: dict[str, Any] = {"name": slo.name}
    if isinstance(indicator, Availability | Latency):
        kind = "availability" if isinstance(indicator, Availability) else "latency"
        where: dict[str, Any] = {"service": indicator.service, "source": indicator.source}
        if isinstance(indicator, Latency):
            where["percentile"] = indicator.percentile
        if indicator.route is not None:
            where["route"] = indicator.route
        if indicator.cohort is not None:
            where["cohort"] = indicator.cohort
        document[kind] = where
    else:
        kind = "promql"
        document[kind] = indicator.query
    objective = slo.objective
    relative = objective.relative_percent is not None
    key = _THRESHOLD_KEYS.get((kind, objective.op, relative))
    if key is None:
        raise ValueError(f"SLO {slo.name}: a {kind} SLO cannot be written with {objective}")
    document[key] = objective.relative_percent if relative else objective.threshold
    document["window"] = slo.window
    return document


def _step(index: int, step: Step) -> dict[str, Any]:
    fault = step.fault
    document: dict[str, Any] = {"fault": fault.kind}
    if step.name != f"{index + 1}-{fault.kind}":
        document["name"] = step.name
    document |= {"offset": step.offset, "duration": step.duration}
    if isinstance(fault, AppFault):
        document |= _app_fault(fault)
    elif isinstance(fault, ProcessFault):
        document["target"] = fault.target
        if fault.instances is not None:
            document["instances"] = fault.instances
        if fault.instances_percent is not None:
            document["instances_percent"] = fault.instances_percent
        if fault.env:
            document["env"] = dict(fault.env)
    elif isinstance(fault, NetworkFault):
        document |= _network_fault(fault)
    elif isinstance(fault, NodeFault):
        document["region"] = fault.region
    elif isinstance(fault, MonkeyFault):
        document |= {"menu": dict(fault.menu), "mean": fault.mean_s, "hold": fault.hold_s,
                     "seed": fault.seed, "max_at_once": fault.max_at_once}  # fmt: skip
        if fault.targets:
            document["targets"] = list(fault.targets)
        if fault.guard is not None:
            document["guard"] = {"max_burn": fault.guard.max_burn,
                                 "budget_window": fault.guard.budget_window_s,
                                 "recover_for": fault.guard.recover_for_s,
                                 "alerts": fault.guard.alerts}  # fmt: skip
    return document


def _app_fault(fault: AppFault) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if fault.edge is not None:
        document["edge"] = str(fault.edge)
    else:
        document["target"] = fault.target
        if fault.route is not None:
            document["route"] = fault.route
        if fault.method is not None:
            document["method"] = fault.method
    if fault.kind == "latency":
        document |= {"delay_ms": fault.delay_ms, "jitter_ms": fault.jitter_ms}
    if fault.kind == "error":
        document["status"] = fault.status
    if fault.kind == "corrupt":
        document["message"] = fault.message
    return document | {"percent": fault.percent, "cohort": fault.cohort}


def _network_fault(fault: NetworkFault) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if fault.between is not None:
        document["between"] = [list(group) for group in fault.between]
    if fault.from_ is not None and fault.to is not None:
        document |= {"from": list(fault.from_), "to": list(fault.to)}
    if fault.target is not None:
        document["target"] = fault.target
    if fault.edge is not None:
        document["edge"] = str(fault.edge)
    if fault.kind == "loss":
        document["percent"] = fault.percent
    if fault.kind == "bandwidth":
        document["rate_kbit"] = fault.rate_kbit
    if fault.kind == "netem_latency":
        document |= {"delay_ms": fault.delay_ms, "jitter_ms": fault.jitter_ms}
    if fault.standin_allowed:
        document["standin"] = "allowed"
    return document


def _expectation(expectation: Expectation) -> dict[str, Any]:
    if isinstance(expectation, BreakerOpened):
        return {"breaker_opened": str(expectation.edge)}
    if isinstance(expectation, BreakerClosed):
        return {"breaker_closed": str(expectation.edge)}
    if isinstance(expectation, BulkheadRefused):
        return {"bulkhead_refused": str(expectation.edge)}
    if isinstance(expectation, FallbackServed):
        served: dict[str, Any] = {"service": expectation.service}
        if expectation.fallback is not None:
            served["fallback"] = expectation.fallback
        return {"fallback_served": served}
    if isinstance(expectation, RetriesWithinBudget):
        budget = {"service": expectation.service, "ratio": expectation.ratio}
        return {"retries_within_budget": budget}
    if isinstance(expectation, HistoryHolds):
        return {
            "history": {
                "lost": expectation.lost,
                "partial": expectation.partial,
                "converged_within": expectation.converged_within,
            }
        }
    if isinstance(expectation, MonkeyHalts):
        return {"monkey_halts": {"after": expectation.after, "within": expectation.within}}
    assert isinstance(expectation, RecoveredWithin)
    return {"recovered_within": expectation.seconds}
