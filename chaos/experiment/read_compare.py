"""Reading `steady_state.compare`: the cohorts compared on member-side metrics,
and refusing, at load time, a comparison that could pass without evidence.

    compare:
      pass: 95          # score at or above: the comparison passes (default 95)
      marginal: 75      # at or above: marginal, which does not hold (default 75)
      metrics:
        - name: homepage-latency
          metric: latency          # success | latency | starts_per_second
          journey: homepage        # whose requests (starts_per_second: play)
          direction: increase      # the bad direction: increase | decrease | either
          allowed_increase: 1.2    # ratio of means tolerated upwards (>= 1; default 1)
          allowed_decrease: 0.9    # ... downwards (0 to 1; default 1)
          critical: false          # true: significantly bad aborts the method
          must_have_data: true     # false: no data leaves it out of the score
          confidence: 0.98         # of the Mann-Whitney U test (0.5 to 0.9999)
        - name: recommendations-served
          metric: promql           # read for each cohort, $cohort replaced
          query: sum(rate(chaosbed_http_requests_total{cohort="$cohort"}[5s]))
          every: 5s                # between samples; no range in the query longer
          direction: decrease

Refused with the experiment (`check_comparison`): a comparison without the
load generator's traffic, with a cohort of fewer than `MIN_MEMBERS` members,
on a journey the mix never sends, a promql query without `$cohort` or with a
range longer than its `every`, and any fault that is not confined to the
experiment cohort (an application fault with `cohort: experiment`, or
`fault: none` for an A/A comparison); `fault: none` outside a comparison.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal, cast

from chaos.compare.stats import look_level, smallest_p
from chaos.load.cohort import cohort_of

from . import limits
from .document import Node
from .durations import format_duration, parse_duration
from .fields import Fields, Problems
from .model import (
    COMPARE_DIRECTIONS,
    COMPARE_METRICS,
    JOURNEYS,
    AppFault,
    Compare,
    CompareMetric,
    Experiment,
    LoadSpec,
    NoFault,
)
from .reach import reach_of

__all__ = ["MIN_MEMBERS", "check_comparison", "cohort_members", "read_compare"]

COMPARE_KEYS = ("pass", "marginal", "metrics")
METRIC_KEYS = (
    "name",
    "metric",
    "journey",
    "direction",
    "allowed_increase",
    "allowed_decrease",
    "critical",
    "must_have_data",
    "confidence",
    "query",
    "every",
)
#: A cohort of fewer members than this compares those members, not the fault.
MIN_MEMBERS = 10
#: promql: where the cohort goes in the query, and the sampling period's bounds.
COHORT_MARK = "$cohort"
DEFAULT_EVERY = 5.0
EVERY = (1.0, 60.0)
MAX_QUERY = 4096
#: A PromQL comment, to the end of its line.
COMMENT = re.compile(r"#[^\n]*")
#: The direction of change that cannot be damage, per built-in metric.
HARMLESS = {"success": "increase", "latency": "decrease", "starts_per_second": "increase"}
#: A range selector, `[5s]` or a subquery's `[1m:10s]`: its range.
RANGE = re.compile(r"\[\s*([0-9][0-9a-z.]*)\s*(?::[^\]]*)?\]")
MAX_METRICS = 20
MAX_RATIO = 1000.0


def read_compare(node: Node, problems: Problems) -> Compare | None:
    values = problems.mapping(node, "the comparison (pass, marginal, metrics)")
    if values is None:
        return None
    fields = Fields(node, values, problems, COMPARE_KEYS)
    pass_node, marginal_node = fields.get("pass"), fields.get("marginal")
    pass_score = 95.0 if pass_node is None else problems.number(pass_node, 0, 100, above=True)
    marginal = 75.0 if marginal_node is None else problems.number(marginal_node, 0, 100)
    if pass_score is not None and marginal is not None and marginal > pass_score:
        where = marginal_node if marginal_node is not None else node
        problems.at(
            where, f"the marginal score ({marginal:g}) is above the pass score ({pass_score:g})"
        )
        return None
    metrics_node = fields.require("metrics", "the metrics compared between the cohorts")
    metrics = None if metrics_node is None else _read_metrics(metrics_node, problems)
    if pass_score is None or marginal is None or metrics is None:
        return None
    return Compare(metrics=metrics, pass_score=pass_score, marginal_score=marginal)


def _read_metrics(node: Node, problems: Problems) -> tuple[CompareMetric, ...] | None:
    items = problems.items(node, "compared metrics")
    if items is None:
        return None
    if not items:
        problems.at(node, "expected at least one metric: a comparison of nothing holds always")
        return None
    if len(items) > MAX_METRICS:
        problems.at(node, f"expected at most {MAX_METRICS} metrics, got {len(items)}")
        return None
    metrics = [_read_metric(item, problems) for item in items]
    seen: dict[str, int] = {}
    for index, metric in enumerate(metrics):
        if metric is None:
            continue
        if metric.name in seen:
            problems.at(
                items[index],
                f"{metric.name!r} is already the name of {node.path}[{seen[metric.name]}]",
            )
        seen.setdefault(metric.name, index)
    if any(m is None for m in metrics) or len(seen) != len(metrics):
        return None
    return tuple(m for m in metrics if m is not None)


def _read_metric(node: Node, problems: Problems) -> CompareMetric | None:
    values = problems.mapping(node, "a compared metric")
    if values is None:
        return None
    fields = Fields(node, values, problems, METRIC_KEYS)
    name_node = fields.require("name", "a name, unique among the metrics")
    name = None if name_node is None else problems.name(name_node)
    kind_node = fields.require("metric", f"what is compared: one of {', '.join(COMPARE_METRICS)}")
    kind = None if kind_node is None else problems.choice(kind_node, COMPARE_METRICS)
    journey_node = fields.get("journey")
    journey: str | None
    query, every = _read_promql(kind, node, fields, problems)
    if kind == "promql":
        journey = ""
        if journey_node is not None:
            problems.at(journey_node, "a promql metric reads its query: leave journey out")
            journey = None
    elif kind == "starts_per_second":
        journey = "play"
        if journey_node is not None and journey_node.value != "play":
            problems.at(journey_node, "starts_per_second counts play journeys: leave journey out")
            journey = None
    elif journey_node is None:
        journey = None
        if kind is not None:
            problems.add(
                node.line, f"{node.path}.journey",
                f"is required: the journey whose requests feed it, one of {', '.join(JOURNEYS)}",
            )  # fmt: skip
    else:
        journey = problems.choice(journey_node, JOURNEYS, "a journey:")
    direction_node = fields.require("direction", "the bad direction: increase, decrease or either")
    direction = (
        None if direction_node is None else problems.choice(direction_node, COMPARE_DIRECTIONS)
    )
    increase = _ratio(fields.get("allowed_increase"), problems, 1.0, MAX_RATIO)
    decrease_node = fields.get("allowed_decrease")
    decrease = (
        1.0
        if decrease_node is None
        else problems.number(decrease_node, 0.0, 1.0, above=True)  # 0: nothing is below it
    )
    critical = _flag(fields.get("critical"), problems, False)
    must = _flag(fields.get("must_have_data"), problems, True)
    confidence_node = fields.get("confidence")
    confidence = 0.98 if confidence_node is None else problems.number(confidence_node, 0.5, 0.9999)
    parts = (name, kind, journey, direction, increase, decrease, critical, must, confidence)
    if any(part is None for part in parts) or query is None or every is None:
        return None
    assert direction_node is not None and kind is not None
    harmless = HARMLESS.get(kind)
    if direction == harmless:
        good = "increase" if harmless == "decrease" else "decrease"
        problems.at(
            direction_node,
            f"{kind} that {harmless}s is harmless: with direction: {harmless} the damage a "
            f"fault does (a {good}) would always pass; give {good} or either",
        )
        return None
    if critical and must is False:
        problems.at(
            values["must_have_data"],
            "a critical metric must have data: without it, a critical metric with no "
            "samples would be left out of the score and the method never stopped",
        )
        return None
    return CompareMetric(
        name=cast(str, name),
        metric=cast(Literal["success", "latency", "starts_per_second"], kind),
        journey=cast(str, journey),
        direction=cast(Literal["increase", "decrease", "either"], direction),
        allowed_increase=cast(float, increase),
        allowed_decrease=cast(float, decrease),
        critical=cast(bool, critical),
        must_have_data=cast(bool, must),
        confidence=cast(float, confidence),
        query=query,
        every=every,
    )


def _read_promql(
    kind: str | None, node: Node, fields: Fields, problems: Problems
) -> tuple[str | None, float | None]:
    """A promql metric's query and sampling period ("" and 0 for any other metric)."""
    query_node, every_node = fields.get("query"), fields.get("every")
    if kind != "promql":
        for key, given in (("query", query_node), ("every", every_node)):
            if given is not None:
                problems.at(given, f"only a promql metric takes {key}")
        return ("", 0.0) if query_node is None and every_node is None else (None, None)
    every = DEFAULT_EVERY if every_node is None else problems.duration(every_node, *EVERY)
    if query_node is None:
        problems.add(
            node.line,
            f"{node.path}.query",
            "is required: a PromQL expression with $cohort where the cohort goes",
        )
        return None, None
    query = problems.text(query_node, "a PromQL expression", MAX_QUERY)
    if query is None or every is None:
        return None, None
    if COHORT_MARK not in COMMENT.sub("", query):
        problems.at(
            query_node,
            f"the query has no {COHORT_MARK}: it would read the same series for both "
            f"cohorts, and the comparison would compare nothing",
        )
        return None, None
    for written in RANGE.findall(query):
        seconds = parse_duration(written)
        if seconds is not None and seconds > every:
            problems.at(
                query_node,
                f"a [{written}] range is longer than the {format_duration(every)} between "
                f"samples: consecutive samples would count the same requests again, and the "
                f"test would take them for independent evidence; give every: "
                f"{format_duration(seconds)} or a shorter range",
            )
            return None, None
    return query, every


def _ratio(node: Node | None, problems: Problems, lo: float, hi: float) -> float | None:
    return 1.0 if node is None else problems.number(node, lo, hi)


def _flag(node: Node | None, problems: Problems, default: bool) -> bool | None:
    return default if node is None else problems.flag(node)


# ---------------------------------------------------------------- with the rest


def cohort_members(load: LoadSpec) -> dict[str, int]:
    """How many of the load's members are in each cohort."""
    counts = {"experiment": 0, "control": 0, "none": 0}
    for index in range(load.members):
        counts[cohort_of(f"m-{index}", load.experiment_percent, load.control_percent)] += 1
    return counts


def check_comparison(
    experiment: Experiment,
    problems: Problems,
    *,
    compare: Node | None,
    load: Node | None,
    method: Node | None,
) -> None:
    """Note a problem for every way the comparison could pass without evidence, and
    for a step with no fault in an experiment that compares nothing."""
    steps = method.items if method is not None and method.items is not None else None
    step_nodes = steps if steps is not None and len(steps) == len(experiment.method) else None
    comparison = experiment.steady_state.compare
    if comparison is None:
        for index, step in enumerate(experiment.method):
            if isinstance(step.fault, NoFault):
                where = step_nodes[index] if step_nodes else method
                assert where is not None
                problems.at(
                    where,
                    "fault: none injects nothing: only an experiment that compares cohorts "
                    "(steady_state.compare, an A/A comparison) may have such a step",
                )
        return
    assert compare is not None
    spec = experiment.load
    if spec is None:
        problems.at(
            compare,
            "a comparison is judged on the load generator's member requests, and this "
            "experiment has no load: add one",
        )
        return
    where = load if load is not None else compare
    members = cohort_members(spec)
    for cohort in ("experiment", "control"):
        if members[cohort] < MIN_MEMBERS:
            problems.at(
                where,
                f"{members[cohort]} of the load's {spec.members} members are in the {cohort} "
                f"cohort (experiment_percent {spec.experiment_percent:g}, control_percent "
                f"{'the rest' if spec.control_percent is None else f'{spec.control_percent:g}'}): "
                f"a comparison needs at least {MIN_MEMBERS} in each, or it compares those "
                f"members rather than the fault",
            )
    metric_nodes = compare.mapping.get("metrics") if compare.mapping else None
    items = metric_nodes.items if metric_nodes is not None else None
    for index, metric in enumerate(comparison.metrics):
        if metric.metric == "promql" or spec.mix.get(metric.journey, 0) > 0:
            continue
        node = items[index] if items is not None and len(items) > index else compare
        problems.at(
            node,
            f"{metric.name}: the load's mix sends no {metric.journey} journey, so this "
            f"metric would have no data",
        )
    for index, metric in enumerate(comparison.metrics):
        node = items[index] if items is not None and len(items) > index else compare
        _reads_enough(metric, experiment.method_duration, node, problems)
    _faults_reach_compared_journeys(experiment, spec, comparison, step_nodes or method, problems)
    for index, step in enumerate(experiment.method):
        fault = step.fault
        if isinstance(fault, NoFault) or (
            isinstance(fault, AppFault) and fault.cohort == "experiment"
        ):
            continue
        at = step_nodes[index] if step_nodes else method
        assert at is not None
        problems.at(
            at,
            f"step {step.name}: in a comparison every fault must be confined to the "
            f"experiment cohort (an application fault with cohort: experiment), or the "
            f"control cohort sees it too and the comparison measures nothing",
        )


def _reads_enough(metric: CompareMetric, method: float, node: Node, problems: Problems) -> None:
    """A promql metric gets about one read per `every` of the method (its tail adds a
    few): enough that the test could ever call the cohorts different at its level."""
    if metric.metric != "promql":
        return
    reads = int(method // metric.every)
    alpha = 1 - metric.confidence
    level = look_level(alpha, 1 / limits.COMPARE_PLAN_MARGIN) if metric.critical else alpha
    best = smallest_p(reads, reads)
    if best >= level:
        problems.at(
            node,
            f"{metric.name}: every {format_duration(metric.every)} over a "
            f"{format_duration(method)} method is about {reads} reads a cohort, whose "
            f"smallest p ({best:.3g}) can never be under the {level:.3g} it is judged at: "
            f"it could never fail; read more often or run the method longer",
        )


def _faults_reach_compared_journeys(
    experiment: Experiment,
    load: LoadSpec,
    comparison: Compare,
    nodes: Sequence[Node] | Node | None,
    problems: Problems,
) -> None:
    """Every fault touches a request of some compared journey, unless a promql metric
    (which may measure anything) is compared: else the comparison would compare what
    the fault never reached and hold."""
    if any(m.metric == "promql" for m in comparison.metrics):
        return
    journeys = sorted({m.journey for m in comparison.metrics})
    reach = reach_of(replace(load, mix=dict.fromkeys(journeys, 1.0)), history=False)
    for index, step in enumerate(experiment.method):
        fault = step.fault
        if not isinstance(fault, AppFault):
            continue
        touched = (
            fault.edge in reach.edges
            if fault.edge is not None
            else reach.route(str(fault.target), fault.route)
        )
        if touched:
            continue
        node = nodes[index] if isinstance(nodes, Sequence) else nodes
        assert node is not None
        problems.at(
            node,
            f"step {step.name}: no compared journey ({', '.join(journeys)}) calls what the "
            f"fault hits: the comparison would compare requests the fault never reached",
        )
