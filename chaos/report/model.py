"""What a report shows, read from a journal: one experiment's run, or a game
day's runs. Reading validates the fields the report uses and names the field
when one is missing or of the wrong kind."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import JournalUnreadable

__all__ = [
    "ExplorationRun",
    "Part",
    "FaultWindow",
    "Report",
    "Run",
    "Series",
    "read_journal",
    "read_report",
]


@dataclass(frozen=True)
class Series:
    """One SLI over a run, with the limit its objective sets."""

    name: str
    kind: str  # "availability" (%), "latency" (ms) or "promql"
    op: str
    limit: float | None
    baseline: float | None
    points: tuple[tuple[float, float | None, bool | None, str], ...]  # t, value, ok, phase


@dataclass(frozen=True)
class FaultWindow:
    step: str
    description: str
    start: float
    end: float


@dataclass(frozen=True)
class Part:
    """What every part of a report has: an experiment's run or an exploration."""

    title: str
    hypothesis: str
    source: str
    runtime: str
    predicts: str
    verdict: str
    reasons: tuple[str, ...]
    duration: float


@dataclass(frozen=True)
class Run(Part):
    """One experiment's journal, as the report needs it."""

    events: tuple[Mapping[str, Any], ...]
    series: tuple[Series, ...]
    faults: tuple[FaultWindow, ...]
    aborts: tuple[float, ...]
    breakers: Mapping[str, tuple[tuple[float, float | None], ...]]
    method_t: float | None
    recovered_after: float | None
    expectations: tuple[Mapping[str, Any], ...]
    notes: Mapping[str, str] = field(default_factory=dict)  # a game day's before/expect/saw
    comparison: Mapping[str, Any] = field(default_factory=dict)  # the cohorts compared


@dataclass(frozen=True)
class ExplorationRun(Part):
    """One exploration's journal (`chaosbed explore`, or an exploration in a suite)."""

    journeys: tuple[str, ...]
    depth: int
    executions: tuple[Mapping[str, Any], ...]
    notes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    title: str
    narration: str
    kind: str  # "experiment", "gameday" or "exploration"
    started_at: str
    runs: tuple[Run, ...]
    explorations: tuple[ExplorationRun, ...] = ()
    order: tuple[tuple[str, int], ...] = ()
    """Each part in the journal's order: ("run", i) or ("exploration", i)."""

    def parts(self) -> list[Run | ExplorationRun]:
        order = self.order or tuple(("run", i) for i in range(len(self.runs)))
        return [self.runs[i] if kind == "run" else self.explorations[i] for kind, i in order]


def _get(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in doc:
        raise JournalUnreadable(f"{where}.{key}", "missing")
    value = doc[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind in (int, float):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise JournalUnreadable(f"{where}.{key}", f"must be {names}, not {type(value).__name__}")
    return value


def _kind(indicator: Mapping[str, Any]) -> str:
    if "query" in indicator:
        return "promql"
    return "latency" if "percentile" in indicator else "availability"


def _limit(objective: Mapping[str, Any], baseline: float | None) -> float | None:
    if objective.get("relative_percent") is None:
        threshold = objective.get("threshold")
        return float(threshold) if isinstance(threshold, int | float) else None
    if baseline is None:
        return None
    factor = float(objective["relative_percent"]) / 100.0
    return (
        baseline * (1 + factor) if objective.get("op") in ("<", "<=") else baseline * (1 - factor)
    )


def _series(doc: Mapping[str, Any], where: str) -> tuple[Series, ...]:
    experiment = _get(doc, "experiment", dict, where)
    steady = _get(experiment, "steady_state", dict, f"{where}.experiment")
    slos = _get(steady, "slos", list, f"{where}.experiment.steady_state")
    samples = _get(doc, "slis", dict, where)
    baseline = _get(doc, "baseline", dict, where)
    found = []
    for index, slo in enumerate(slos):
        at = f"{where}.experiment.steady_state.slos[{index}]"
        name = _get(slo, "name", str, at)
        objective = _get(slo, "objective", dict, at)
        base = baseline.get(name)
        points = []
        for i, p in enumerate(samples.get(name, [])):
            t = _get(p, "t", (int, float), f"{where}.slis.{name}[{i}]")
            value = p.get("value")
            points.append(
                (
                    float(t),
                    None if value is None else float(value),
                    p.get("ok"),
                    str(p.get("phase", "")),
                )
            )
        found.append(
            Series(
                name,
                _kind(_get(slo, "indicator", dict, at)),
                str(objective.get("op", ">=")),
                _limit(objective, base),
                None if base is None else float(base),
                tuple(points),
            )
        )
    return tuple(found)


def _faults(doc: Mapping[str, Any], where: str, end: float) -> tuple[FaultWindow, ...]:
    windows = []
    for index, fault in enumerate(_get(doc, "faults", list, where)):
        at = f"{where}.faults[{index}]"
        start = fault.get("began_at", fault.get("injected_at"))  # from when injecting began
        if start is None:  # never injected: nothing to shade
            continue
        stop = fault.get("rolled_back_at")
        windows.append(
            FaultWindow(
                str(_get(fault, "step", str, at)),
                str(fault.get("description", "")),
                float(start),
                end if stop is None else float(stop),
            )
        )
    return tuple(windows)


def read_run(
    doc: Mapping[str, Any], where: str = "journal", notes: Mapping[str, str] | None = None
) -> Run:
    """One experiment's journal (the JSON `chaosbed run` writes)."""
    if not isinstance(doc, Mapping) or "chaosbed_journal" not in doc:
        raise JournalUnreadable(where, "not a chaosbed journal (no chaosbed_journal field)")
    experiment = _get(doc, "experiment", dict, where)
    context = doc.get("context") or {}
    timings = doc.get("timings") or {}
    events = tuple(_get(doc, "events", list, where))
    duration = float(_get(doc, "duration_s", (int, float), where))
    breakers = {
        edge: tuple((float(s["t"]), s.get("state")) for s in samples)
        for edge, samples in (doc.get("breakers") or {}).items()
    }
    return Run(
        title=str(experiment.get("title", "")),
        hypothesis=str(experiment.get("hypothesis", "")),
        source=str(context.get("source") or experiment.get("source") or ""),
        runtime=str(context.get("runtime", "")),
        predicts=str(context.get("predicts") or experiment.get("predicts") or "held"),
        verdict=str(_get(doc, "verdict", str, where)),
        reasons=tuple(str(r) for r in _get(doc, "reasons", list, where)),
        duration=duration,
        events=events,
        series=_series(doc, where),
        faults=_faults(doc, where, duration),
        aborts=tuple(float(e["t"]) for e in events if e.get("event") == "abort"),
        breakers=breakers,
        method_t=timings.get("method_t"),
        recovered_after=timings.get("recovered_after_s"),
        expectations=tuple(doc.get("expectations") or ()),
        notes=dict(notes or {}),
        comparison=_comparison(doc, where),
    )


def _comparison(doc: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    found = doc.get("comparison") or {}
    if not isinstance(found, Mapping):
        raise JournalUnreadable(f"{where}.comparison", "must be a mapping")
    if found:
        for index, metric in enumerate(_get(found, "metrics", list, f"{where}.comparison")):
            at = f"{where}.comparison.metrics[{index}]"
            _get(metric, "name", str, at)
            _get(metric, "classification", str, at)
            _get(metric, "distribution", dict, at)
    return found


def read_exploration(
    doc: Mapping[str, Any], where: str = "journal", notes: Mapping[str, str] | None = None
) -> ExplorationRun:
    """One exploration's journal (the JSON `chaosbed explore` writes)."""
    executions = _get(doc, "executions", list, where)
    for index, execution in enumerate(executions):
        at = f"{where}.executions[{index}]"
        if not isinstance(execution, Mapping):
            raise JournalUnreadable(at, f"must be dict, not {type(execution).__name__}")
        _get(execution, "journey", str, at)
        _get(execution, "outcome", str, at)
        _get(execution, "violations", list, at)
    return ExplorationRun(
        title=str(_get(doc, "title", str, where)),
        hypothesis=str(doc.get("hypothesis", "")),
        source=str(doc.get("source", "")),
        runtime=str(doc.get("runtime", "")),
        predicts=str(doc.get("predicts") or "held"),
        verdict=str(_get(doc, "verdict", str, where)),
        reasons=tuple(str(r) for r in _get(doc, "reasons", list, where)),
        duration=float(_get(doc, "duration_s", (int, float), where)),
        journeys=tuple(str(j) for j in doc.get("journeys") or ()),
        depth=int(doc.get("depth") or 1),
        executions=tuple(executions),
        notes=dict(notes or {}),
    )


def read_report(doc: Mapping[str, Any], where: str = "journal") -> Report:
    """A report of one journal (an experiment's or an exploration's), or of a game
    day's (or a suite's) combined journal. A Chaos Toolkit journal is read as
    the chaosbed journal it carries, or as one (chaos.ctk.journal)."""
    from chaos.ctk.journal import chaosbed_journal_of, is_ctk_journal  # it reads our errors

    if is_ctk_journal(doc):
        doc = chaosbed_journal_of(doc, where)
    if isinstance(doc, Mapping) and "chaosbed_gameday" in doc:
        runs: list[Run] = []
        explorations: list[ExplorationRun] = []
        order: list[tuple[str, int]] = []
        parts: Sequence[Any] = _get(doc, "experiments", list, where)
        for index, part in enumerate(parts):
            at = f"{where}.experiments[{index}]"
            notes = {
                k: str(part[k]) for k in ("name", "before", "expect", "narration") if part.get(k)
            }
            journal = _get(part, "journal", dict, at)
            if "chaosbed_exploration" in journal:
                order.append(("exploration", len(explorations)))
                explorations.append(read_exploration(journal, f"{at}.journal", notes))
            else:
                order.append(("run", len(runs)))
                runs.append(read_run(journal, f"{at}.journal", notes))
        return Report(
            str(_get(doc, "title", str, where)),
            str(doc.get("narration") or ""),
            "gameday",
            str(doc.get("started_at", "")),
            tuple(runs),
            tuple(explorations),
            tuple(order),
        )
    if isinstance(doc, Mapping) and "chaosbed_exploration" in doc:
        found = read_exploration(doc, where)
        return Report(
            found.title,
            found.hypothesis,
            "exploration",
            str(doc.get("started_at", "")),
            (),
            (found,),
            (("exploration", 0),),
        )
    run = read_run(doc, where)
    started = str(doc.get("started_at", "")) if isinstance(doc, Mapping) else ""
    return Report(run.title, run.hypothesis, "experiment", started, (run,))


def read_journal(path: Path) -> Report:
    try:
        text = path.read_text()
    except OSError as exc:
        raise JournalUnreadable(str(path), exc.strerror or str(exc)) from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JournalUnreadable(str(path), f"not JSON: {exc}") from exc
    return read_report(doc, str(path))
