"""Reading one fault of a method step: `fault:` and the keys its kind takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, cast

from services import topology

from . import limits
from .document import Node
from .fields import Fields, Problems
from .model import (
    APP_FAULTS,
    MONKEY_FAULTS,
    MONKEY_MENU,
    NETWORK_FAULTS,
    NODE_FAULTS,
    PROCESS_FAULTS,
    AppFault,
    Edge,
    Fault,
    MonkeyFault,
    MonkeyGuard,
    NetworkFault,
    NodeFault,
    NoFault,
    ProcessFault,
)
from .release import release_problem
from .topology import ROUTES

__all__ = ["FAULTS", "STEP_KEYS", "read_fault"]

FAULTS = (*APP_FAULTS, *PROCESS_FAULTS, *NETWORK_FAULTS, *NODE_FAULTS, "none", "monkey")
STEP_KEYS = ("fault", "name", "offset", "duration")
COHORTS = ("experiment", "control", "any")
HTTP_METHODS = topology.HTTP_METHODS
STANDIN = ("allowed", "refused")
MESSAGES = ("request", "response")

_APP = ("edge", "target", "route", "method", "percent", "cohort")
KEYS: dict[str, tuple[str, ...]] = {
    "latency": (*_APP, "delay_ms", "jitter_ms"),
    "error": (*_APP, "status"),
    "drop": _APP,
    "hang": _APP,
    "corrupt": (*_APP, "message"),
    **{kind: ("target", "instances", "instances_percent") for kind in PROCESS_FAULTS},
    "deploy": ("target", "instances", "instances_percent", "env"),
    "partition": ("between", "from", "to", "standin"),
    "isolate": ("target", "standin"),
    "loss": ("target", "edge", "percent", "standin"),
    "bandwidth": ("target", "edge", "rate_kbit", "standin"),
    "netem_latency": ("target", "edge", "delay_ms", "jitter_ms", "standin"),
    "node_stop": ("region",),
    "node_partition": ("region",),
    "node_drain": ("region",),
    "none": (),
    "monkey": ("menu", "mean", "hold", "seed", "targets", "max_at_once", "guard"),
}
ALL_KEYS = frozenset(key for keys in KEYS.values() for key in keys)


def read_fault(node: Node, values: dict[str, Node], problems: Problems) -> Fault | None:
    """The fault of the step mapping `node` (whose keys are `values`)."""
    kind_node = values.get("fault")
    if kind_node is None:
        problems.add(
            node.line, f"{node.path}.fault", f"is required: the fault, one of {', '.join(FAULTS)}"
        )
        Fields(node, values, problems, (*STEP_KEYS, *ALL_KEYS))
        return None
    kind = problems.choice(kind_node, FAULTS, "a fault:")
    if kind is None:
        Fields(node, values, problems, (*STEP_KEYS, *ALL_KEYS))
        return None
    takes = KEYS[kind]
    misplaced = {
        key: f"does not apply to a {kind} fault (it takes: {', '.join(takes)})"
        for key in ALL_KEYS - set(takes)
    }
    fields = Fields(node, values, problems, (*STEP_KEYS, *takes), misplaced)
    reader = _READERS[kind]
    return reader(kind, node, fields, problems)


def _target_or_edge(
    node: Node, fields: Fields, problems: Problems
) -> tuple[str | None, Edge | None] | None:
    target_node, edge_node = fields.get("target"), fields.get("edge")
    if (target_node is None) == (edge_node is None):
        where = edge_node if edge_node is not None else None
        problems.add(
            where.line if where else node.line,
            where.path if where else f"{node.path}.target",
            "give exactly one of target (a service) or edge (caller -> dependency)",
        )
        return None
    if target_node is not None:
        target = problems.service(target_node)
        return None if target is None else (target, None)
    assert edge_node is not None
    edge = problems.edge(edge_node)
    return None if edge is None else (None, edge)


def _optional(
    fields: Fields, key: str, read: Callable[[Node], float | None], default: float
) -> float | None:
    node = fields.get(key)
    return default if node is None else read(node)


def _read_app(kind: str, node: Node, fields: Fields, problems: Problems) -> Fault | None:
    where = _target_or_edge(node, fields, problems)
    route_node, method_node = fields.get("route"), fields.get("method")
    route = method = None
    ok = where is not None
    for key, given in (("route", route_node), ("method", method_node)):
        if given is not None and fields.has("edge"):
            problems.at(given, f"a {key} applies to a target (server side), not to an edge")
            ok = False
    if where is not None and where[0] is not None and route_node is not None:
        route = problems.choice(route_node, ROUTES[where[0]], f"a route of {where[0]}:")
        ok = ok and route is not None
    if method_node is not None and not fields.has("edge"):
        written = method_node.value
        if isinstance(written, str) and written.strip().upper() in HTTP_METHODS:
            method = written.strip().upper()
        else:
            method = problems.choice(method_node, HTTP_METHODS, "an HTTP method:")
        ok = ok and method is not None
    delay = _optional(
        fields, "delay_ms", lambda n: problems.number(n, *limits.DELAY_MS, unit="ms"), 0.0
    )
    jitter = _optional(
        fields, "jitter_ms", lambda n: problems.number(n, *limits.DELAY_MS, unit="ms"), 0.0
    )
    status_node = fields.get("status")
    status = 503 if status_node is None else problems.integer(status_node, 400, 599)
    percent = _optional(fields, "percent", problems.percent, 100.0)
    percent_node = fields.get("percent")
    if percent == 0 and percent_node is not None:
        problems.at(percent_node, "a rule on 0% of requests can match no request; give more than 0")
        percent = None
    cohort_node = fields.get("cohort")
    cohort = "any" if cohort_node is None else problems.choice(cohort_node, COHORTS)
    message_node = fields.get("message")
    message = "response" if message_node is None else problems.choice(message_node, MESSAGES)
    if kind == "latency" and delay == 0 and jitter == 0:
        problems.add(
            node.line,
            f"{node.path}.delay_ms",
            "is required: a latency fault needs delay_ms above 0",
        )
        ok = False
    if not ok or where is None or None in (delay, jitter, status, percent, cohort, message):
        return None
    return AppFault(
        kind=cast(Literal["latency", "error", "drop", "hang", "corrupt"], kind),
        target=where[0],
        edge=where[1],
        route=route,
        method=method,
        delay_ms=cast(float, delay),
        jitter_ms=cast(float, jitter),
        status=cast(int, status),
        percent=cast(float, percent),
        cohort=cast(Literal["experiment", "control", "any"], cohort),
        message=cast(Literal["request", "response"], message),
    )


def _read_process(kind: str, node: Node, fields: Fields, problems: Problems) -> Fault | None:
    target_node = fields.require("target", "the service whose instances it hits")
    target = None if target_node is None else problems.service(target_node)
    count_node, share_node = fields.get("instances"), fields.get("instances_percent")
    count = None if count_node is None else problems.integer(count_node, *limits.INSTANCES)
    share = None if share_node is None else problems.percent(share_node, above_zero=True)
    if count_node is not None and share_node is not None:
        problems.at(share_node, "give instances or instances_percent, not both")
        return None
    bad = (count_node is not None and count is None) or (share_node is not None and share is None)
    env: tuple[tuple[str, str], ...] | None = ()
    if kind == "deploy":
        env_node = fields.require(
            "env", "the release: variables to set, like {CHAOSBED_MUTANT: name}"
        )
        env = (
            None
            if env_node is None or target is None
            else _read_release(env_node, target, problems)
        )
    if target is None or bad or env is None:
        return None
    return ProcessFault(
        kind=cast(Literal["kill", "down", "stop", "pause", "restart", "deploy", "delete"], kind),
        target=target,
        instances=count,
        instances_percent=share,
        env=env,
    )


def _read_release(
    node: Node, target: str, problems: Problems
) -> tuple[tuple[str, str], ...] | None:
    """The variables of a deploy's release, each checked (chaos.experiment.release)."""
    values = problems.mapping(node, "the release's variables")
    if values is None:
        return None
    if not values:
        problems.at(node, "a deploy that sets no variable changes nothing; give at least one")
        return None
    env: list[tuple[str, str]] = []
    for variable, value_node in values.items():
        value = problems.text(value_node, f"the value of {variable}")
        if value is None:
            continue
        why = release_problem(variable, value, target)
        if why is not None:
            problems.at(value_node, why)
            continue
        env.append((variable, value))
    return tuple(env) if len(env) == len(values) else None


def _read_network(kind: str, node: Node, fields: Fields, problems: Problems) -> Fault | None:
    standin_node = fields.get("standin")
    standin = "refused" if standin_node is None else problems.choice(standin_node, STANDIN)
    ok = standin is not None
    between = from_ = to = None
    target: str | None = None
    edge: Edge | None = None
    if kind == "partition":
        groups = _read_partition(node, fields, problems)
        ok = ok and groups is not None
        if groups is not None:
            between, from_, to = groups
    elif kind == "isolate":
        target_node = fields.require("target", "the service to cut off from every other")
        target = None if target_node is None else problems.service(target_node)
        ok = ok and target is not None
    else:
        where = _target_or_edge(node, fields, problems)
        ok = ok and where is not None
        if where is not None:
            target, edge = where
    percent: float | None = 100.0
    rate: int | None = None
    delay: float | None = 0.0
    jitter: float | None = 0.0
    if kind == "loss":
        percent_node = fields.require("percent", "the share of packets lost, more than 0 up to 100")
        percent = None if percent_node is None else problems.percent(percent_node, above_zero=True)
    if kind == "bandwidth":
        rate_node = fields.require("rate_kbit", "the bandwidth limit in kilobits per second")
        rate = None if rate_node is None else problems.integer(rate_node, *limits.BANDWIDTH_KBIT)
        ok = ok and rate is not None
    if kind == "netem_latency":
        delay_node = fields.require("delay_ms", "the added delay in milliseconds")
        delay = (
            None
            if delay_node is None
            else problems.number(delay_node, *limits.DELAY_MS, unit="ms", above=True)
        )
        jitter = _optional(
            fields, "jitter_ms", lambda n: problems.number(n, *limits.DELAY_MS, unit="ms"), 0.0
        )
    if not ok or percent is None or delay is None or jitter is None:
        return None
    return NetworkFault(
        kind=cast(Literal["partition", "isolate", "loss", "bandwidth", "netem_latency"], kind),
        between=between,
        from_=from_,
        to=to,
        target=target,
        edge=edge,
        percent=percent,
        rate_kbit=rate,
        delay_ms=delay,
        jitter_ms=jitter,
        standin_allowed=standin == "allowed",
    )


_Groups = tuple[
    tuple[tuple[str, ...], tuple[str, ...]] | None, tuple[str, ...] | None, tuple[str, ...] | None
]


def _read_partition(node: Node, fields: Fields, problems: Problems) -> _Groups | None:
    between_node = fields.get("between")
    from_node, to_node = fields.get("from"), fields.get("to")
    if between_node is not None and (from_node is not None or to_node is not None):
        other = from_node or to_node
        assert other is not None
        problems.at(other, "give between (both ways) or from and to (one way), not both")
        return None
    if between_node is not None:
        groups = between_node.items
        if groups is None or len(groups) != 2:
            problems.at(
                between_node,
                "expected two groups of services, like [[playback], [profiles]]; "
                f"got {between_node.kind()}",
            )
            return None
        first, second = problems.services(groups[0]), problems.services(groups[1])
        if first is None or second is None or not _disjoint(between_node, first, second, problems):
            return None
        return (first, second), None, None
    if from_node is None or to_node is None:
        if from_node is None and to_node is None:
            missing, what = (
                "between",
                "between: [[a], [b]] (both ways) or from: [a] and to: [b] (one way)",
            )
        else:
            missing = "to" if to_node is None else "from"
            what = "a one-way partition needs both from and to"
        problems.add(node.line, f"{node.path}.{missing}", f"is required: {what}")
        return None
    sources, targets = problems.services(from_node), problems.services(to_node)
    if sources is None or targets is None or not _disjoint(to_node, sources, targets, problems):
        return None
    return None, sources, targets


def _disjoint(
    node: Node, first: tuple[str, ...], second: tuple[str, ...], problems: Problems
) -> bool:
    both = sorted(set(first) & set(second))
    if both:
        problems.at(
            node, f"the two sides share {', '.join(both)}; a service cannot be cut off from itself"
        )
    return not both


def _read_node(kind: str, node: Node, fields: Fields, problems: Problems) -> Fault | None:
    region_node = fields.require("region", "the region whose node it hits (us, eu or apac)")
    if region_node is None:
        return None
    region = problems.choice(region_node, tuple(topology.PROFILES_REPLICAS), "a region:")
    if region is None:
        return None
    return NodeFault(
        kind=cast(Literal["node_stop", "node_partition", "node_drain"], kind), region=region
    )


_READERS: dict[str, Callable[[str, Node, Fields, Problems], Fault | None]] = {
    **{kind: _read_app for kind in APP_FAULTS},
    **{kind: _read_node for kind in NODE_FAULTS},
    **{kind: _read_process for kind in PROCESS_FAULTS},
    **{kind: _read_network for kind in NETWORK_FAULTS},
    "none": lambda kind, node, fields, problems: NoFault(),
    "monkey": lambda kind, node, fields, problems: _read_monkey(node, fields, problems),
}


def _read_monkey(node: Node, fields: Fields, problems: Problems) -> Fault | None:
    """A monkey step: its menu (kind: weight), mean time between actions, hold, seed,
    targets and how many actions at once."""
    menu: tuple[tuple[str, float], ...] | None = MONKEY_MENU
    menu_node = fields.get("menu")
    if menu_node is not None:
        weights = problems.mapping(menu_node, "the menu: fault kind to weight, like {kill: 2}")
        menu = None
        if weights is not None:
            read: list[tuple[str, float]] = []
            for kind, weight_node in weights.items():
                if kind not in MONKEY_FAULTS:
                    problems.at(weight_node, f"a monkey has no fault {kind!r}: one of "
                                f"{', '.join(MONKEY_FAULTS)}")  # fmt: skip
                    continue
                weight = problems.number(weight_node, 0, 1000)
                if weight is not None:
                    read.append((kind, weight))
            if len(read) == len(weights):
                if not any(weight > 0 for _, weight in read):
                    problems.at(menu_node, "every weight is 0: the monkey could choose nothing")
                else:
                    menu = tuple(read)
    mean = _optional(fields, "mean", lambda n: problems.duration(n, *limits.MONKEY_MEAN), 10.0)
    hold = _optional(fields, "hold", lambda n: problems.duration(n, *limits.MONKEY_HOLD), 5.0)
    seed_node = fields.get("seed")
    seed = 0 if seed_node is None else problems.integer(seed_node, 0, 2**31 - 1)
    at_once_node = fields.get("max_at_once")
    at_once = 1 if at_once_node is None else problems.integer(at_once_node, 1, 10)
    targets_node = fields.get("targets")
    targets: tuple[str, ...] | None = ()
    if targets_node is not None:
        targets = problems.services(targets_node)
    guard_node = fields.get("guard")
    guard: MonkeyGuard | None | bool = None
    if guard_node is not None:
        guard = _read_guard(guard_node, problems)
    if None in (menu, mean, hold, seed, at_once, targets) or guard is False:
        return None
    return MonkeyFault(
        menu=cast(tuple[tuple[str, float], ...], menu),
        mean_s=cast(float, mean),
        hold_s=cast(float, hold),
        seed=cast(int, seed),
        targets=cast(tuple[str, ...], targets),
        max_at_once=cast(int, at_once),
        guard=cast(MonkeyGuard | None, guard),
    )


def _read_guard(node: Node, problems: Problems) -> MonkeyGuard | bool:
    """`guard: {max_burn, budget_window, recover_for}` (each optional); False when invalid."""
    values = problems.mapping(node, "the monkey's guardrails, like {max_burn: 14.4, "
                              "budget_window: 10s, recover_for: 10s}")  # fmt: skip
    if values is None:
        return False
    fields = Fields(node, values, problems, ("max_burn", "budget_window", "recover_for", "alerts"))
    default = MonkeyGuard()
    burn = _optional(fields, "max_burn", lambda n: problems.number(n, 0.1, 1000), default.max_burn)
    budget = _optional(
        fields,
        "budget_window",
        lambda n: problems.duration(n, *limits.MONKEY_BUDGET_WINDOW),
        default.budget_window_s,
    )
    recover = _optional(
        fields,
        "recover_for",
        lambda n: problems.duration(n, *limits.MONKEY_RECOVER_FOR),
        default.recover_for_s,
    )
    alerts_node = fields.get("alerts")
    alerts = True if alerts_node is None else problems.flag(alerts_node)
    if burn is None or budget is None or recover is None or alerts is None:
        return False
    return MonkeyGuard(max_burn=burn, budget_window_s=budget, recover_for_s=recover, alerts=alerts)
