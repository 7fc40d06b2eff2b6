"""The nouns every part of the runner shares: an experiment and what it is made of.

The YAML format (docs/experiments.md) is loaded into these frozen
dataclasses by `chaos.experiment.loader`; the load generator, the SLO
backends, the fault drivers, the runner and the journal all read them. They
hold already-validated values: durations are float seconds, percentages are
floats in [0, 100], edges are `Edge(caller, dependency)`.

    Experiment
    ├── LoadSpec                        open-loop member traffic
    ├── SteadyState ── Slo*             warm-up, then the SLOs that must hold
    │                  ├── Availability | Latency | PromQL   (the indicator)
    │                  └── Objective                          (the threshold)
    ├── Step*                           the method: faults at offsets
    │     └── AppFault | ProcessFault | NetworkFault
    ├── AbortCondition*                 stop the method at once
    └── Expectation*                    checked after recovery
          └── BreakerOpened | BreakerClosed | BulkheadRefused | FallbackServed
              | RetriesWithinBudget | RecoveredWithin
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from services import topology

__all__ = [
    "APP_FAULTS",
    "JOURNEYS",
    "JOURNEY_SERVICE",
    "NETWORK_FAULTS",
    "NODE_FAULTS",
    "ORCHESTRATOR_FAULTS",
    "PROCESS_FAULTS",
    "SERVICES",
    "COMPARE_DIRECTIONS",
    "COMPARE_METRICS",
    "AbortCondition",
    "AppFault",
    "Availability",
    "BreakerClosed",
    "BreakerOpened",
    "BulkheadRefused",
    "Compare",
    "CompareMetric",
    "Edge",
    "Expectation",
    "Experiment",
    "FallbackServed",
    "HistoryHolds",
    "Fault",
    "Indicator",
    "Latency",
    "LoadSpec",
    "NetworkFault",
    "NodeFault",
    "NoFault",
    "MonkeyFault",
    "MONKEY_FAULTS",
    "MONKEY_MENU",
    "MonkeyGuard",
    "MonkeyHalts",
    "Objective",
    "ProcessFault",
    "PromQL",
    "RecoveredWithin",
    "RetriesWithinBudget",
    "Slo",
    "SliSource",
    "SteadyState",
    "Step",
]

SERVICES: tuple[str, ...] = tuple(topology.PORTS)

# A member journey and the service it enters the graph at.
JOURNEY_SERVICE: Mapping[str, str] = {
    "homepage": "recommendations",  # GET /recommendations/{member}
    "play": "playback",  # POST /playback/start
    "title": "catalog",  # GET /titles/{id}
    "preferences": "profiles",  # PATCH /profiles/{member} with an Idempotency-Key
}
JOURNEYS: tuple[str, ...] = tuple(JOURNEY_SERVICE)

APP_FAULTS = topology.APP_FAULT_KINDS
PROCESS_FAULTS = ("kill", "down", "stop", "pause", "restart", "deploy", "delete")
#: The process kinds only a runtime with an orchestrator (the cluster) can do.
ORCHESTRATOR_FAULTS = ("delete",)
NETWORK_FAULTS = ("partition", "isolate", "loss", "bandwidth", "netem_latency")
NODE_FAULTS = ("node_stop", "node_partition", "node_drain")


@dataclass(frozen=True)
class Edge:
    """A call from one service to a dependency: `recommendations -> profiles`."""

    caller: str
    dependency: str

    def __str__(self) -> str:
        return f"{self.caller} -> {self.dependency}"


# ---------------------------------------------------------------- load


@dataclass(frozen=True)
class LoadSpec:
    """Open-loop member traffic: Poisson arrivals at `rate` per second.

    `mix` weights the journeys (keys from JOURNEYS). `experiment_percent` of
    members (by a stable hash of the member id) are in the `experiment`
    cohort, the next `control_percent` in `control` (None: all the rest), and
    any left over in no cohort (`none`). Member ids are `m-0` .. `m-{members-1}`.
    """

    rate: float
    mix: Mapping[str, float]
    experiment_percent: float = 100.0
    control_percent: float | None = None
    members: int = 1000
    timeout: float = 2.0
    seed: int | None = None


# ---------------------------------------------------------------- SLOs

# Where an availability or latency SLI is measured:
# - "edge": where members and callers see the service (the load generator's
#   client-side series for requests to it, plus its callers' dependency-call
#   series). A killed service still shows here; the default.
# - "members": the load generator's client-side series only.
# - "server": the service's own server-side series (gone when it is killed).
SliSource = Literal["edge", "members", "server"]


@dataclass(frozen=True)
class Availability:
    """Good answers over all answers, as a percentage, over `window` seconds."""

    service: str
    route: str | None = None
    source: SliSource = "edge"
    # only members of this cohort ("experiment" or "control"); members source only
    cohort: str | None = None


@dataclass(frozen=True)
class Latency:
    """A percentile of response time in milliseconds, over `window` seconds."""

    service: str
    percentile: float
    route: str | None = None
    source: SliSource = "edge"
    cohort: str | None = None


@dataclass(frozen=True)
class PromQL:
    """A raw PromQL expression evaluated to one number (prometheus backend only)."""

    query: str


Indicator = Availability | Latency | PromQL


@dataclass(frozen=True)
class Objective:
    """When an SLI is good.

    Absolute: `value <op> threshold` (availability: `>=` objective percent;
    latency: `<` below_ms; PromQL: `<` below or `>` above).
    Relative: `relative_percent` set means the threshold is taken from the
    steady-state baseline: for `<`/`<=` at most baseline * (1 + p/100), for
    `>`/`>=` at least baseline * (1 - p/100). `threshold` is then None.
    """

    op: Literal["<", "<=", ">", ">="]
    threshold: float | None = None
    relative_percent: float | None = None

    def holds(self, value: float, baseline: float | None = None) -> bool:
        limit = self.limit(baseline)
        if self.op == "<":
            return value < limit
        if self.op == "<=":
            return value <= limit
        if self.op == ">":
            return value > limit
        return value >= limit

    def limit(self, baseline: float | None = None) -> float:
        if self.relative_percent is None:
            assert self.threshold is not None
            return self.threshold
        if baseline is None:
            raise ValueError("a relative objective needs the steady-state baseline")
        factor = self.relative_percent / 100.0
        if self.op in ("<", "<="):
            return baseline * (1.0 + factor)
        return baseline * (1.0 - factor)


@dataclass(frozen=True)
class Slo:
    name: str
    indicator: Indicator
    objective: Objective
    window: float = 10.0


# ---------------------------------------------------------------- comparisons

#: What a compared metric is, per member request of the load generator:
#: success (1 for a good answer, 0 otherwise), latency (ms from the scheduled
#: send to the end of the answer), or starts_per_second (successful playback
#: starts in each whole second, per percent of members in the cohort); or
#: promql, a query read for each cohort (`$cohort` in it) every `every` seconds.
COMPARE_METRICS = ("success", "latency", "starts_per_second", "promql")
#: The direction of a change that is bad.
COMPARE_DIRECTIONS = ("increase", "decrease", "either")


@dataclass(frozen=True)
class CompareMetric:
    """One metric compared between the control and the experiment cohort
    (Kayenta's metric with its effect size and criticality)."""

    name: str
    metric: Literal["success", "latency", "starts_per_second", "promql"]
    journey: str  # whose requests feed it ("play" for starts_per_second, "" for promql)
    direction: Literal["increase", "decrease", "either"]
    allowed_increase: float = 1.0  # ratio of means experiment/control tolerated upwards
    allowed_decrease: float = 1.0  # ... and downwards
    critical: bool = False  # significantly bad during the method aborts it; failing scores 0
    must_have_data: bool = True  # no data fails it (else it is left out of the score)
    confidence: float = 0.98
    query: str = ""  # promql: the expression, `$cohort` standing for the cohort
    every: float = 0.0  # promql: seconds between samples (no range in `query` is longer)


@dataclass(frozen=True)
class Compare:
    """The cohorts compared during the method, scored as Kayenta scores a canary."""

    metrics: tuple[CompareMetric, ...]
    pass_score: float = 95.0
    marginal_score: float = 75.0


@dataclass(frozen=True)
class SteadyState:
    warmup: float
    slos: tuple[Slo, ...]
    # how long the SLOs must hold after warm-up before any fault is injected
    hold: float = 5.0
    # the control cohort against the experiment cohort, judged on the method
    compare: Compare | None = None


# ---------------------------------------------------------------- faults


@dataclass(frozen=True)
class AppFault:
    """An application-layer rule set through the services' control API.

    Exactly one of `edge` (client side, in the caller) or `target` (server
    side of a service, optionally one `route` template) is set.
    """

    kind: Literal["latency", "error", "drop", "hang", "corrupt"]
    target: str | None = None
    edge: Edge | None = None
    route: str | None = None
    method: str | None = None
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    status: int = 503
    percent: float = 100.0
    cohort: Literal["experiment", "control", "any"] = "any"
    message: Literal["request", "response"] = "response"  # corrupt: which body is mangled


@dataclass(frozen=True)
class ProcessFault:
    """A process-layer fault on instances of one service.

    kill: SIGKILL once (the supervisor or Docker restarts it); down: kill and
    keep down for the duration; stop: graceful stop, start at rollback;
    pause: SIGSTOP / docker pause, resume at rollback; restart: graceful
    restart once; deploy: restart with `env` set on top of the instance's own
    environment (a release, chaos.experiment.release), and restart with its
    own environment at rollback; delete (the cluster runtime only): the pod
    deleted through the orchestrator's API, gracefully, for its controller to
    replace, and the service back to as many ready pods at rollback.
    `instances` is a count, `instances_percent` a share; by default every
    instance.
    """

    kind: Literal["kill", "down", "stop", "pause", "restart", "deploy", "delete"]
    target: str
    instances: int | None = None
    instances_percent: float | None = None
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class NetworkFault:
    """A network-layer fault (docker runtime). `standin_allowed` lets the
    process runtime use an application-layer stand-in, labelled as such."""

    kind: Literal["partition", "isolate", "loss", "bandwidth", "netem_latency"]
    between: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    from_: tuple[str, ...] | None = None
    to: tuple[str, ...] | None = None
    target: str | None = None
    edge: Edge | None = None
    percent: float = 100.0
    rate_kbit: int | None = None
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    standin_allowed: bool = False


@dataclass(frozen=True)
class NodeFault:
    """A fault on a node of a cluster (the cluster runtime): `node_stop` stops the
    node of `region` as a machine that lost its power (its kubelet, its engine and
    every pod on it gone at once); at rollback it starts again, and its pods come
    back (or were moved by the orchestrator meanwhile). `node_partition` cuts the
    node of `region` off from the other nodes and their pods, both ways (the
    control plane, the runner's machine and the stack's Prometheus still reach it):
    a region cut off at the network's edge, which the orchestrator does not see.
    `node_drain` drains the node as for maintenance: cordoned (nothing new is
    scheduled on it) and every pod of the stack on it evicted (stopped
    gracefully; their controllers start them again where they can); at
    rollback it is uncordoned."""

    kind: Literal["node_stop", "node_partition", "node_drain"]
    region: str


@dataclass(frozen=True)
class NoFault:
    """A step that injects nothing: an A/A comparison, where the two cohorts are
    compared as they are, to show the judge does not cry wolf. Allowed only in
    an experiment that compares cohorts."""

    kind: Literal["none"] = "none"


#: What a monkey step may choose from: the process faults that end by themselves or
#: are undone (kill, pause, restart), the application faults (on the experiment
#: cohort; `corrupt`: one value of the victim's JSON answers, as served) and, where
#: the runtime drives the network (docker), `partition`: the victim cut off from
#: every other service. Each ends by itself if the monkey dies (a TTL, an expiry,
#: a restart).
MONKEY_FAULTS = ("kill", "pause", "restart", "latency", "error", "corrupt", "partition")
#: The menu a monkey step gets when it names none (kind, weight).
MONKEY_MENU: tuple[tuple[str, float], ...] = (
    ("kill", 2.0),
    ("pause", 1.0),
    ("restart", 1.0),
    ("latency", 1.0),
    ("error", 1.0),
)


@dataclass(frozen=True)
class MonkeyGuard:
    """A monkey step's guardrails, as `chaosbed monkey`'s: it halts (rolling back what it
    holds) while a service's burn of its error budget over `budget_window_s` is above
    `max_burn` or a paging alert fires, and resumes after `recover_for_s` of calm."""

    max_burn: float = 14.4
    budget_window_s: float = 10.0
    recover_for_s: float = 10.0
    alerts: bool = True  # halt on the stack's paging alerts too


@dataclass(frozen=True)
class MonkeyFault:
    """Continuous chaos for the step's duration, as `chaosbed monkey` does it: every
    `mean_s` on average (exponential waits) a fault drawn from `menu` by weight on a
    healthy service drawn from `targets` (empty: the services the topology opts in),
    held `hold_s`, verified and rolled back; at most `max_at_once` at a time. The
    step's evidence is the actions that were injected and rolled back."""

    menu: tuple[tuple[str, float], ...] = MONKEY_MENU
    mean_s: float = 10.0
    hold_s: float = 5.0
    seed: int = 0
    targets: tuple[str, ...] = ()
    max_at_once: int = 1
    guard: MonkeyGuard | None = None
    kind: Literal["monkey"] = "monkey"


Fault = AppFault | ProcessFault | NetworkFault | NodeFault | NoFault | MonkeyFault


@dataclass(frozen=True)
class Step:
    """One method step: a fault that starts `offset` seconds after the method
    starts and lasts `duration` seconds. Steps may overlap. `name` is unique
    within the experiment (generated from the index when not given)."""

    name: str
    fault: Fault
    offset: float
    duration: float


# ---------------------------------------------------------------- abort / expect


@dataclass(frozen=True)
class AbortCondition:
    """Abort the method when SLO `slo` is below/above a value for `for_` seconds."""

    slo: str
    below: float | None = None
    above: float | None = None
    for_: float = 0.0

    def breached(self, value: float) -> bool:
        if self.below is not None and value < self.below:
            return True
        return self.above is not None and value > self.above


@dataclass(frozen=True)
class BreakerOpened:
    edge: Edge


@dataclass(frozen=True)
class BreakerClosed:
    """The breaker on the edge is closed again by the end of recovery."""

    edge: Edge


@dataclass(frozen=True)
class BulkheadRefused:
    """The caller's bulkhead on the edge refused calls over its limit during the run:
    the calls it let wait on the dependency were capped, not merely served by a fallback."""

    edge: Edge


@dataclass(frozen=True)
class FallbackServed:
    service: str
    fallback: str | None = None


@dataclass(frozen=True)
class RetriesWithinBudget:
    """Retries of `service` stayed within its retry budget: in every window of
    the kit's budget, per dependency, at most `ratio` of its first tries that
    reached the dependency plus the budget's floor."""

    service: str
    ratio: float = 0.1


@dataclass(frozen=True)
class RecoveredWithin:
    """Every SLO holds again within `seconds` of the last rollback."""

    seconds: float


@dataclass(frozen=True)
class HistoryHolds:
    """The profiles history workload ran during the method; afterwards the
    checker found at most `lost` lost and `partial` partial operations, and
    every replica agreed within `converged_within` seconds of the rollback."""

    lost: int = 0
    partial: int = 0
    converged_within: float = 5.0


@dataclass(frozen=True)
class MonkeyHalts:
    """The method's guarded monkey step halted itself within `within` seconds of step
    `after` starting (a dependency made to fail underneath it), and injected nothing
    while halted."""

    after: str
    within: float


Expectation = (
    BreakerOpened
    | BreakerClosed
    | BulkheadRefused
    | FallbackServed
    | RetriesWithinBudget
    | RecoveredWithin
    | HistoryHolds
    | MonkeyHalts
)


# ---------------------------------------------------------------- the experiment


@dataclass(frozen=True)
class Experiment:
    title: str
    hypothesis: str
    load: LoadSpec | None
    steady_state: SteadyState
    method: tuple[Step, ...]
    abort_when: tuple[AbortCondition, ...] = ()
    expect: tuple[Expectation, ...] = ()
    # the verdict this experiment predicts (library experiments say it)
    predicts: Literal["held", "deviated"] = "held"
    # which runtimes it runs in; empty means any
    runtimes: tuple[str, ...] = ()
    # where it came from, for messages and the journal
    source: str = "<memory>"
    tags: tuple[str, ...] = field(default_factory=tuple)
    # the mechanisms it protects: `chaosbed mutate` runs it against the
    # mutants that break them (services/common/mutants.py MECHANISMS)
    covers: tuple[str, ...] = ()

    @property
    def method_duration(self) -> float:
        return max((s.offset + s.duration for s in self.method), default=0.0)
