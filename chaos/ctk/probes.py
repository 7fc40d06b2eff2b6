"""Chaos Toolkit probes of a running chaosbed stack: the fault rules in place (with
the requests each matched), whether anything is left over, and an SLO's value.

Plain functions (`provider: {type: python, module: chaos.ctk.probes, func: ...}`),
finding the stack as the actions do (chaos.ctk.actions). Annotations are real types:
`chaos discover` reports them.
"""

import typing
from typing import Any

from . import reads, session
from .stack import ActivityError, run, runtime_of

__all__ = [
    "breaker_state",
    "fault_rules",
    "faults_matched",
    "history_holds",
    "leftovers",
    "slo_met",
    "slo_value",
    "verdict",
]

Json = typing.Dict[str, Any]  # noqa: UP006 - "mapping" to chaos discover
Configuration = dict[str, Any] | None


def breaker_state(edge: str, configuration: Configuration = None) -> str:
    """The state of the circuit breaker on `edge` ("recommendations -> catalog"), as the
    caller reports it now: "closed", "open" or "half-open" (a tolerance: the state
    expected). Fails when the caller reports no state for it."""
    return run(reads.breaker_state(runtime_of(configuration), edge))


def fault_rules(tag: str = "", configuration: Configuration = None) -> typing.List[Json]:  # noqa: UP006
    """Every fault rule the activities added under `tag` ("": under any tag) that the
    services list now, each with its service and the requests it `matched`."""
    return run(reads.rules(runtime_of(configuration), tag or None))


def faults_matched(tag: str = "", configuration: Configuration = None) -> int:
    """How many requests the rules in place under `tag` ("": any) have matched,
    summed: 0 means the faults changed nothing (a tolerance: a range from 1). Fails
    when no rule is in place (none injected yet, or removed, or expired): no count is
    never a count."""
    return run(reads.matched(runtime_of(configuration), tag or None))


def history_holds(path: str, bound_s: float = 5.0) -> bool:
    """Whether the saved history of profile operations at `path` (a run's
    `.history.jsonl`, or `chaosbed history record`'s) holds: nothing acknowledged
    lost, nothing failed seen, no conflicting or partial write, reads fresh and
    replicas converged within `bound_s`, and something to judge. Its summary is
    logged; `chaosbed history check` prints every finding. Fails when the file
    cannot be read."""
    return reads.history_holds(path, bound_s)


def leftovers(configuration: Configuration = None) -> typing.List[str]:  # noqa: UP006
    """What any run or activity left on the stack (tagged rules, paused or stopped
    instances, network rules), as `chaosbed cleanup` finds it: [] when nothing."""
    return run(reads.leftovers(runtime_of(configuration)))


def slo_value(slo: Json, configuration: Configuration = None) -> float:
    """The SLI of `slo`, written as in a chaosbed experiment (`{name: ok, availability:
    {service: catalog}, objective: 99, window: 30s}`), read now from the stack's
    Prometheus; fails when there is no data (no data is never a value)."""
    return run(reads.slo_value(runtime_of(configuration), slo))


def slo_met(slo: Json, configuration: Configuration = None) -> bool:
    """Whether `slo` (as for `slo_value`) meets its objective now; fails when there is
    no data, which is never "met"."""
    return run(reads.slo_met(runtime_of(configuration), slo))


def verdict() -> str:
    """chaosbed's verdict on the chaosbed experiment this run carries, once its
    method, tail, recovery and expectations are judged: "held", "deviated",
    "aborted", "failed" (as `chaosbed run` says it; the reasons are in chaosbed's
    journal and in CTK's, under `chaosbed`). For the hypothesis after the method,
    with the tolerance "held". Fails when chaosbed's control runs no experiment."""
    playing = session.current()
    if playing is None:
        raise ActivityError(
            "verdict reads the run of the chaosbed experiment chaosbed's control runs: "
            "declare the control (chaos.ctk.control) and the experiment in `extensions`"
        )
    if not playing.method_ended and not playing.wait(0):
        raise ActivityError(
            "no verdict before the method has ended: read it in the hypothesis after the "
            'method (runtime: {hypothesis: {strategy: "after-method-only"}})'
        )
    if not playing.wait():
        raise ActivityError(f"chaosbed's run {playing.run_id} gave no verdict in time")
    return playing.verdict
