"""Properties of the loader: valid experiments round-trip through YAML; junk only ever
raises ExperimentError."""

from __future__ import annotations

from typing import Any, Literal

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaos.experiment import ExperimentError, limits, load_experiment_text
from chaos.experiment.dump import dump_experiment, experiment_document
from chaos.experiment.fields import NAME
from chaos.experiment.model import (
    APP_FAULTS,
    JOURNEY_SERVICE,
    JOURNEYS,
    PROCESS_FAULTS,
    AbortCondition,
    AppFault,
    Availability,
    BreakerClosed,
    BreakerOpened,
    BulkheadRefused,
    Experiment,
    FallbackServed,
    Indicator,
    Latency,
    LoadSpec,
    NetworkFault,
    Objective,
    ProcessFault,
    PromQL,
    RecoveredWithin,
    RetriesWithinBudget,
    Slo,
    SteadyState,
    Step,
)
from chaos.experiment.release import service_kind
from chaos.experiment.topology import CALLERS, EDGES, FALLBACKS, ROUTES, SERVICES
from chaos.slo.outcomes import JOURNEY_ROUTES
from services.common.mutants import ENV_VARIABLE as MUTANT_VARIABLE
from services.common.mutants import MUTANTS

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reals(lo: float, hi: float, *, above: bool = False) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, exclude_min=above)


names = st.from_regex(NAME, fullmatch=True)
texts = st.text(min_size=1, max_size=40).filter(lambda t: t.strip() == t and t != "")
services = st.sampled_from(SERVICES)
edges = st.sampled_from(EDGES)
percents = reals(0, 100)
# routes only the history workload or the checkers call: no load reaches them
UNREACHED_ROUTES = ("/profiles/{member}/sync", "/replication/state")
# the shortest window every runtime's Prometheus can fill with two scrapes
SHORTEST_WINDOW = limits.SCRAPES_PER_WINDOW * max(limits.SCRAPE_INTERVALS.values())
CAP_MS = limits.LATENCY_CAP_MS


def reached_routes(service: str) -> tuple[str, ...]:
    return tuple(route for route in ROUTES[service] if route not in UNREACHED_ROUTES)


@st.composite
def groups(draw: st.DrawFn) -> tuple[tuple[str, ...], tuple[str, ...]]:
    chosen = draw(st.permutations(SERVICES))
    cut = draw(st.integers(1, len(chosen) - 1))
    first = tuple(chosen[:cut])
    second = tuple(draw(st.lists(st.sampled_from(chosen[cut:]), min_size=1, unique=True)))
    return first, second


@st.composite
def app_faults(draw: st.DrawFn) -> AppFault:
    kind = draw(st.sampled_from(APP_FAULTS))
    on_edge = draw(st.booleans())
    target = None if on_edge else draw(services)
    route = method = None
    if target is not None:
        route = draw(st.none() | st.sampled_from(reached_routes(target)))
        method = draw(st.none() | st.sampled_from(("GET", "POST", "PATCH")))
    delay = jitter = 0.0
    if kind == "latency":
        delay, jitter = draw(reals(0, 60_000)), draw(reals(0, 60_000))
        if delay == 0 and jitter == 0:
            delay = 1.0
    return AppFault(
        kind=kind,  # type: ignore[arg-type]
        target=target,
        edge=draw(edges) if on_edge else None,
        route=route,
        method=method,
        delay_ms=delay,
        jitter_ms=jitter,
        status=draw(st.integers(400, 599)) if kind == "error" else 503,
        percent=draw(reals(0, 100, above=True)),
        cohort=draw(st.sampled_from(("experiment", "control", "any"))),
    )


@st.composite
def process_faults(draw: st.DrawFn) -> ProcessFault:
    how = draw(st.sampled_from(("all", "count", "share")))
    kind = draw(st.sampled_from(PROCESS_FAULTS))
    target = draw(services)
    env: tuple[tuple[str, str], ...] = ()
    if kind == "deploy":  # a release of a mutant whose branch lives in the target
        target = draw(services.filter(lambda s: any(released_in(s))))
        env = ((MUTANT_VARIABLE, draw(st.sampled_from(released_in(target)))),)
    return ProcessFault(
        kind=kind,  # type: ignore[arg-type]
        target=target,
        instances=draw(st.integers(1, 100)) if how == "count" else None,
        instances_percent=draw(reals(0, 100, above=True)) if how == "share" else None,
        env=env,
    )


def released_in(service: str) -> list[str]:
    """The mutants a deploy to `service` may switch on."""
    return [m.name for m in MUTANTS.values() if service_kind(service) in m.services]


@st.composite
def network_faults(draw: st.DrawFn) -> NetworkFault:
    kind: Literal["partition", "isolate", "loss", "bandwidth", "netem_latency"] = draw(
        st.sampled_from(("partition", "isolate", "loss", "bandwidth", "netem_latency"))
    )
    standin = draw(st.booleans())
    if kind == "partition":
        first, second = draw(groups())
        if draw(st.booleans()):
            return NetworkFault(kind, between=(first, second), standin_allowed=standin)
        return NetworkFault(kind, from_=first, to=second, standin_allowed=standin)
    if kind == "isolate":
        return NetworkFault(kind, target=draw(services), standin_allowed=standin)
    on_edge = draw(st.booleans())
    where: dict[str, Any] = {"edge": draw(edges)} if on_edge else {"target": draw(services)}
    if kind == "loss":
        where["percent"] = draw(reals(0, 100, above=True))
    if kind == "bandwidth":
        where["rate_kbit"] = draw(st.integers(1, 10_000_000))
    if kind == "netem_latency":
        where["delay_ms"] = draw(reals(0, 60_000, above=True))
        where["jitter_ms"] = draw(reals(0, 60_000))
    return NetworkFault(kind, standin_allowed=standin, **where)


@st.composite
def methods(draw: st.DrawFn) -> tuple[Step, ...]:
    faults = draw(
        st.lists(app_faults() | process_faults() | network_faults(), min_size=1, max_size=4)
    )
    steps, names_used, end = [], set(), 0.0
    for index, fault in enumerate(faults):
        duration = draw(reals(1, 600))
        offset = draw(reals(0, 1800))
        name = draw(st.none() | names.filter(lambda n: n not in names_used))
        names_used.add(name)
        steps.append(Step(name or f"{index + 1}-{fault.kind}", fault, offset, duration))
        end = max(end, offset + duration)
    return tuple(steps)


@st.composite
def slos(draw: st.DrawFn, name: str) -> Slo:
    kind = draw(st.sampled_from(("availability", "latency", "promql")))
    window = draw(reals(SHORTEST_WINDOW, 600))
    if kind == "availability":
        source = draw(st.sampled_from(("edge", "members", "server")))
        if source == "members":  # the load generator calls each service at one route
            journey = draw(st.sampled_from(JOURNEYS))
            service = JOURNEY_SERVICE[journey]
            route = draw(st.none() | st.just(JOURNEY_ROUTES[journey]))
        else:  # callers' dependency metrics (source: edge) carry no route
            service = draw(services)
            routes = st.sampled_from(reached_routes(service))
            route = None if source == "edge" else draw(st.none() | routes)
        cohort = (
            None if source == "edge" else draw(st.sampled_from((None, "experiment", "control")))
        )
        objective = draw(
            st.builds(lambda t: Objective(">=", threshold=t), reals(0, 100, above=True))
            | st.builds(
                lambda p: Objective(">=", relative_percent=p),
                st.floats(0, 100, exclude_max=True),
            )
        )
        indicator: Indicator = Availability(service, route, source, cohort)  # type: ignore[arg-type]
        return Slo(name, indicator, objective, window)
    if kind == "latency":
        service = draw(services)
        indicator = Latency(service, draw(reals(0, 100, above=True)), None, "edge")
        objective = draw(
            st.builds(lambda t: Objective("<", threshold=t), reals(0, CAP_MS, above=True))
            | st.builds(lambda p: Objective("<=", relative_percent=p), reals(0, 1000))
        )
        return Slo(name, indicator, objective, window)
    op: Literal["<", ">", "<=", ">="] = draw(st.sampled_from(("<", ">", "<=", ">=")))
    if op in ("<", ">"):
        objective = Objective(op, threshold=draw(reals(-1e15, 1e15)))
    else:
        objective = Objective(op, relative_percent=draw(reals(0, 100)))
    return Slo(name, PromQL(draw(texts)), objective, window)


expectations = st.one_of(
    st.builds(BreakerOpened, edges),
    st.builds(BulkheadRefused, edges),
    st.builds(BreakerClosed, edges),
    st.sampled_from(tuple(FALLBACKS)).flatmap(
        lambda s: st.builds(FallbackServed, st.just(s), st.none() | st.sampled_from(FALLBACKS[s]))
    ),
    st.builds(RetriesWithinBudget, st.sampled_from(CALLERS), reals(0, 1)),
    st.builds(RecoveredWithin, reals(1, 1800)),
)


@st.composite
def loads(draw: st.DrawFn) -> LoadSpec:
    """Loads that reach every route a generated fault or SLI may name: every journey
    weighs more than 0, and both cohorts have members (of m-0 .. m-999, the lowest
    cohort slot is 5 and the highest 9990)."""
    mix = {journey: draw(reals(0, 1000, above=True)) for journey in JOURNEYS}
    return LoadSpec(
        rate=draw(reals(0, 1000, above=True)),
        mix=mix,
        experiment_percent=draw(reals(1, 99)),
        members=draw(st.integers(1000, 1_000_000)),
        timeout=draw(reals(0.05, 60)),
        seed=draw(st.none() | st.integers(0, 2**63 - 1)),
    )


@st.composite
def aborts_of(draw: st.DrawFn, slos: tuple[Slo, ...], longest_for: float) -> AbortCondition:
    """An abort condition some readings make true and others false."""
    slo = draw(st.sampled_from(slos))
    if isinstance(slo.indicator, PromQL):
        lo, hi = -1e6, 1e6
    else:
        lo, hi = 0.0, 100.0 if isinstance(slo.indicator, Availability) else CAP_MS
    below = draw(st.none() | reals(lo, hi, above=True))
    floor = max(lo, below or lo)
    above = None if floor >= hi else draw(st.none() | st.floats(floor, hi, exclude_max=True))
    if below is None and above is None:
        below = hi
    return AbortCondition(slo.name, below, above, draw(reals(0, longest_for)))


@st.composite
def experiments(draw: st.DrawFn) -> Experiment:
    slo_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    steady = SteadyState(
        warmup=draw(reals(0, 600)),
        slos=tuple(draw(slos(name)) for name in slo_names),
        hold=draw(reals(0, 600)),
    )
    method = draw(methods())
    longest_for = min(600.0, max(step.offset + step.duration for step in method))
    aborts = draw(st.lists(aborts_of(steady.slos, longest_for), max_size=2))
    return Experiment(
        title=draw(texts),
        hypothesis=draw(texts),
        load=draw(st.none() | loads()),
        steady_state=steady,
        method=method,
        abort_when=tuple(aborts),
        expect=tuple(draw(st.lists(expectations, max_size=4))),
        predicts=draw(st.sampled_from(("held", "deviated"))),
        runtimes=tuple(draw(st.lists(st.sampled_from(("process", "docker")), unique=True))),
        source="generated.yaml",
        tags=tuple(draw(st.lists(names, max_size=3, unique=True))),
    )


@PROPERTY
@given(experiments())
def test_a_valid_experiment_round_trips_through_yaml(experiment: Experiment) -> None:
    assert load_experiment_text(dump_experiment(experiment), "generated.yaml") == experiment


# ---------------------------------------------------------------- junk

VOCABULARY = sorted(
    {
        "objective", "below_ms", "max_percent_above_baseline", "max_percent_below_baseline",
        "title", "hypothesis", "load", "steady_state", "method", "abort_when", "expect",
        "rate", "mix", "warmup", "slos", "name", "availability", "latency", "promql", "service",
        "percentile", "route", "fault", "edge", "target", "duration", "offset", "between",
        "from", "to", "slo", "below", "above", "for", "breaker_opened", "fallback_served",
        *JOURNEYS, *SERVICES, *APP_FAULTS, *PROCESS_FAULTS, "partition", "20s", "-1", "1e400",
    }
)  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(VOCABULARY),
)
junk_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


def loads_or_refuses(text: str) -> None:
    try:
        load_experiment_text(text, "junk.yaml")
    except ExperimentError as error:
        assert error.errors and all(e.line >= 1 for e in error.errors)


@PROPERTY
@given(st.text(st.characters(exclude_categories=()), max_size=300))
def test_arbitrary_text_raises_nothing_but_experiment_error(text: str) -> None:
    loads_or_refuses(text)


@PROPERTY
@given(junk_values)
def test_arbitrary_yaml_values_raise_nothing_but_experiment_error(value: object) -> None:
    loads_or_refuses(yaml.safe_dump(value))


def replace_somewhere(document: Any, path: list[int], junk: object) -> Any:
    """`document` with the value at the position chosen by `path` replaced by `junk`."""
    if not path or not isinstance(document, dict | list) or not document:
        return junk
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[path[0] % len(keys)]
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[key] = replace_somewhere(document[key], path[1:], junk)
    return copy


@PROPERTY
@given(experiments(), st.lists(st.integers(0, 20), min_size=1, max_size=5), junk_values)
def test_a_valid_experiment_with_junk_anywhere_raises_nothing_but_experiment_error(
    experiment: Experiment, path: list[int], junk: object
) -> None:
    document = replace_somewhere(experiment_document(experiment), path, junk)
    loads_or_refuses(yaml.safe_dump(document))
