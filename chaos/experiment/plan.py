"""The plan of an experiment, as `chaosbed run --dry-run` prints it.

Each step with its time window (and a timeline bar), the fault in words and
its resolved targets; each SLO with its goal and the query it becomes. How
targets resolve and how an SLO becomes a query are injected: the runtime
knows the instances, the SLO backend knows the query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .describe import (
    describe_abort,
    describe_compare_metric,
    describe_expectation,
    describe_fault,
    describe_load,
    describe_slo_goal,
)
from .durations import format_duration
from .model import (
    AppFault,
    Experiment,
    Fault,
    MonkeyFault,
    NetworkFault,
    NodeFault,
    NoFault,
    ProcessFault,
    Slo,
    Step,
)
from .runnable import Capabilities, uses_standin
from .standin import standin_faults

__all__ = ["Resolver", "render_plan", "static_targets"]

#: The concrete things a fault will touch (instances, containers, rules), in words.
Resolver = Callable[[Fault], Sequence[str]]

BAR = 40


def static_targets(fault: Fault) -> list[str]:
    """Where a fault lands, from the experiment alone (no runtime asked)."""
    if isinstance(fault, ProcessFault):
        return [fault.target]
    if isinstance(fault, AppFault):
        if fault.edge is not None:
            return [f"{fault.edge.caller} (its calls to {fault.edge.dependency})"]
        return [str(fault.target)]
    if isinstance(fault, NoFault):
        return []
    if isinstance(fault, MonkeyFault):
        return list(fault.targets) or ["any healthy service that opts in"]
    if isinstance(fault, NodeFault):
        return [f"the node of region {fault.region} (every pod on it)"]
    if fault.between is not None:
        return [*fault.between[0], *fault.between[1]]
    if fault.from_ is not None and fault.to is not None:
        return [*fault.from_, *fault.to]
    return [str(fault.edge) if fault.edge is not None else str(fault.target)]


def _bar(step: Step, total: float) -> str:
    start = round(BAR * step.offset / total)
    end = max(start + 1, round(BAR * (step.offset + step.duration) / total))
    return "▕" + "·" * start + "█" * (end - start) + "·" * (BAR - end) + "▏"


def _window(step: Step) -> str:
    start = format_duration(step.offset)
    return f"{start} → {format_duration(step.offset + step.duration)}"


def render_plan(
    experiment: Experiment,
    resolve: Resolver,
    describe_slo: Callable[[Slo], str],
    *,
    capabilities: Capabilities | None = None,
) -> str:
    """The plan as text. With the runtime's `capabilities`, network faults that will
    run as application-layer stand-ins say so, with the rules that stand in."""
    lines = [f"Plan: {experiment.title}", f"  from {experiment.source}"]
    lines += [f"Hypothesis: {experiment.hypothesis}", f"Predicts: {experiment.predicts}", ""]
    lines += [f"Load: {describe_load(experiment.load)}", ""]
    steady = experiment.steady_state
    lines.append(
        f"Steady state: warm up {format_duration(steady.warmup)}, then every SLO must hold "
        f"for {format_duration(steady.hold)} before any fault (else exit 3, nothing injected)"
    )
    width = max(len(slo.name) for slo in steady.slos)
    for slo in steady.slos:
        lines.append(f"  {slo.name:<{width}}  {describe_slo_goal(slo)}")
        lines.append(f"  {'':<{width}}  query: {describe_slo(slo)}")
    compare = steady.compare
    if compare is not None:
        lines += [
            "",
            f"Compare: the experiment cohort against the control cohort over the method "
            f"(Mann-Whitney U; the score passes at {compare.pass_score:g}, marginal at "
            f"{compare.marginal_score:g})",
        ]
        width = max(len(m.name) for m in compare.metrics)
        lines += [f"  {m.name:<{width}}  {describe_compare_metric(m)}" for m in compare.metrics]
    total = experiment.method_duration
    count = len(experiment.method)
    lines += ["", f"Method: {count} step{'s' if count != 1 else ''} over {format_duration(total)}"]
    lines.append("  (SLOs checked about once a second; abort conditions stop it at once)")
    name_width = max(len(step.name) for step in experiment.method)
    window_width = max(len(_window(step)) for step in experiment.method)
    for step in experiment.method:
        head = f"{step.name:<{name_width}}  {_window(step):<{window_width}}"
        lines.append(f"  {head}  {describe_fault(step.fault)}")
        lines.append(f"    {_bar(step, total)}")
        lines.append(f"    targets: {', '.join(resolve(step.fault)) or 'none'}")
        if capabilities is not None and uses_standin(step, capabilities):
            assert isinstance(step.fault, NetworkFault)
            rules = standin_faults(step.fault)
            standing = "; ".join(describe_fault(rule) for rule in rules or ()) or "nothing"
            lines.append(f"    STAND-IN (application layer, not the network): {standing}")
    if experiment.abort_when:
        lines += ["", "Abort when:"]
        lines += [f"  {describe_abort(abort)}" for abort in experiment.abort_when]
    lines += ["", "Rollback: each fault when its window ends, and every fault on any exit."]
    if experiment.expect:
        lines += ["", "Expect, after recovery:"]
        lines += [f"  {describe_expectation(e)}" for e in experiment.expect]
    return "\n".join(lines) + "\n"
