"""The shipped experiment library, for the tests that run it."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

import chaos
from chaos.exitcodes import ExitCode
from chaos.experiment import load_experiment
from chaos.experiment.model import AppFault, Latency, MonkeyFault, NoFault
from chaos.runner.comparison import MIN_READS
from services.topology import EDGES, PROFILES_REPLICAS
from tests.slots import (
    RAN_AGAIN,
    alone_on_the_machine,
    cpu_stalled_us,
    cpu_waited_since,
    holds_every_slot,
)

LIBRARY = Path(chaos.__file__).parent / "experiments"
EXPERIMENTS = sorted(LIBRARY.glob("*.yaml"))
PREDICTED_EXIT = {"held": 0, "deviated": 1}
#: Where, under the suite's shared directory, the process library keeps its journals.
PROCESS_LIBRARY_JOURNALS = "process-library-journals"


def experiments_for(runtime: str) -> list[Path]:
    """The library's experiments that run in `runtime` (no `runtimes:` means every one)."""
    return [p for p in EXPERIMENTS if runtime in (load_experiment(p).runtimes or (runtime,))]


def application_layer_only(path: Path) -> bool:
    """Whether every fault of the experiment is a rule the service's own code applies
    (set through its control API: the same code and the same call on every runtime),
    or there is none."""
    return all(isinstance(step.fault, AppFault | NoFault) for step in load_experiment(path).method)


#: The application-layer experiments the suite plays on docker as well as on the
#: process runtime: a deadline carried across three containers, a comparison of
#: cohorts whose per-cohort promql reads compose's Prometheus, replication between
#: replica containers under the history check. The other application-layer ones
#: run on the process runtime only: their rules are the same code behind the same
#: call there, and on two cores each docker run cost about a slot-minute of a suite
#: over its budget (tests/BUDGET.md).
APPLICATION_LAYER_ON_DOCKER = (
    "catalog-title-errors-cohort-compared",
    "playback-plays-home-hung-deadline-propagated",
    "profiles-replication-to-eu-dropped",
)
#: Played on the process runtime only though docker runs it: the five-minute monkey
#: day (6 slot-minutes on docker). The monkey's kills, pauses, restarts and partitions
#: on containers are played on docker by monkeys-halt-when-catalog-fails and by the
#: compose `chaos` profile's monkey (tests/chaos/experiments/test_library_docker_1.py).
ON_PROCESS_ONLY = ("monkeys-a-compressed-day",)


def played_by_suite(runtime: str) -> list[Path]:
    """The experiments the suite's library tests play on `runtime`: every one it
    runs, but on docker only those with a fault the runtime itself carries out
    (a kill, a pause, a network rule, a monkey) and APPLICATION_LAYER_ON_DOCKER."""
    if runtime != "docker":
        return experiments_for(runtime)
    return [
        path
        for path in experiments_for(runtime)
        if path.stem not in ON_PROCESS_ONLY
        and (path.stem in APPLICATION_LAYER_ON_DOCKER or not application_layer_only(path))
    ]


def cluster_experiments() -> list[Path]:
    """The library's experiments that name the cluster runtime (the one-machine
    cluster's test runs them; the others need app-layer faults it does not do)."""
    return [p for p in EXPERIMENTS if "cluster" in load_experiment(p).runtimes]


#: An absolute latency objective under this many milliseconds judges what a busy
#: machine adds: on two cores, with a second stack running an experiment beside it
#: and a worker on the fast tests, a homepage's p99 read 787 ms (CI) and 913 ms
#: (reproduced) in the seconds the neighbours took the CPU, on a stack with no fault.
QUIET_BELOW_MS = 1000


def runs_alone(path: Path) -> bool:
    """Whether the experiment judges sub-second latency against an absolute
    objective, and so runs with no other stack-driving test beside it."""
    for slo in load_experiment(path).steady_state.slos:
        objective = slo.objective
        if isinstance(slo.indicator, Latency) and objective.relative_percent is None:
            assert objective.threshold is not None
            if objective.threshold < QUIET_BELOW_MS:
                return True
    return False


#: How each compared metric of the library's cohort experiments must be classified:
#: the verdict alone would not say which metric deviated.
COMPARED = {
    "cohorts-a-a-no-fault": {"homepage-latency": "pass", "play-success": "pass", "starts": "pass"},
    "profiles-slow-cohort-compared": {"homepage-latency": "high", "homepage-success": "pass"},
    "catalog-title-errors-cohort-compared": {
        "title-success": "low",
        "homepage-success": "pass",
        "catalog-errors": "high",
    },
}


#: Why a library experiment predicted to deviate must deviate: a text every reason
#: holds, so that it cannot deviate for another cause and pass.
DEVIATES_BECAUSE = {
    # corrupted values stored: the history check, not an SLO, is what finds them
    "profiles-writes-corrupted-on-arrival": "the profiles history has at most 0 lost and 0 partial",
}


Run = TypeVar("Run")


#: The exits a busy machine can give a run instead of the one predicted, by the
#: prediction: a held run deviating or not steady before any fault, a deviating one not
#: steady. Not a deviation's absence (load does not hide one), not a failed rollback,
#: an abort, a crash or an invalid experiment: those end the test at once.
LOAD_CAN_GIVE = {
    "held": {ExitCode.DEVIATED, ExitCode.STEADY_STATE_NOT_MET},
    "deviated": {ExitCode.STEADY_STATE_NOT_MET},
}

#: The reasons load can give: an objective's readings breached (before any fault,
#: during the method and its tail) or the recovery slow, as the runner's own check or
#: as the expectation that says the same ("every SLO holds again within 20s of the
#: rollback", failed with it in a clean-clone run: plays at 93-99% for 14 s, 10 s
#: after the restart was over). Not no data, not a history's lost or partial writes
#: (its lagging replication only: HISTORY_LAGGED), not any other expectation, nor a
#: monkey's verdict. A comparison of the cohorts only when every metric it failed on
#: differed significantly (not no data): in a clean-clone run the docker A/A
#: experiment, nothing injected, read homepages 1.33x slower in its experiment cohort
#: (p 0.0018; a few stalls of 100-300 ms fell on more of its requests), a false alarm
#: that only load can give.
LOAD_REASONS = re.compile(
    r"SLO \S+ did not hold (before any fault|during the method)\b"
    r"|SLOs were not all met for \S+ in a row within\b"
    r"|expected every SLO holds again within \S+ of the rollback, but not so\b"
)
#: A history's check failed for what load alone gives a held run: replication that lags
#: on a starved machine, seen as reads older than a version acknowledged more than the
#: bound before them, outside the faults, or as the replicas' catch-up after the heal
#: slower than the bound (their final states agreeing). Beside other stacks, the
#: bad-deploy game day's warm-up, before any fault, read three such stale reads in a
#: clean-clone run, and a replication experiment caught up in 5.01 s against 5 (tests/
#: BUDGET.md). Not a lost or partial write past what it allows, a conflicting version,
#: an unwritten value, a non-monotonic read, final states that differ, a catch-up that
#: never came, or a history without evidence: load makes none of those.
HISTORY_LAGGED = re.compile(
    r"expected the profiles history has at most (?P<lost>\d+) lost and (?P<partial>\d+)"
    r" partial operations, replicas converged within (?P<bound>\d+(?:\.\d+)?)s, but not so:"
    r" \d+ ok, \d+ failed, \d+ indeterminate; lost (?P<lost_seen>\d+),"
    r" partial (?P<partial_seen>\d+), conflicting 0, unwritten 0, non-monotonic 0,"
    r" stale (?P<stale>\d+) \(\+\d+ during faults\), divergent (?P<divergent>\d+),"
    r" converged after (?P<after>\d+(?:\.\d+)?)s(?:;| \(checked |\Z)"
)
#: What the checker notes of a history without evidence (it judges nothing).
HISTORY_WITHOUT_EVIDENCE = ("no write was acknowledged", "no final states recorded")
COMPARISON_FAILED = re.compile(
    r"the cohorts' comparison is \w+ \(score [\d.]+; pass at [\d.]+\): (?P<metrics>.+)\Z"
)
METRIC_DIFFERED = re.compile(r"[\w.-]+: the experiment is significantly (higher|lower) \(")


def history_lagged(reason: str) -> bool:
    """Whether a history's reason is one load alone gives (see HISTORY_LAGGED)."""
    lagged = HISTORY_LAGGED.match(reason)
    if lagged is None or any(note in reason for note in HISTORY_WITHOUT_EVIDENCE):
        return False
    # a late catch-up is counted among the divergent; one that prints as the bound (5.00
    # for 5.004) reads as a member whose final states differ, and decides at once
    slow = float(lagged["after"]) > float(lagged["bound"])
    return (
        int(lagged["lost_seen"]) <= int(lagged["lost"])
        and int(lagged["partial_seen"]) <= int(lagged["partial"])
        and int(lagged["divergent"]) == int(slow)
        and (slow or int(lagged["stale"]) > 0)
    )


def load_can_give(reason: str) -> bool:
    """Whether load alone can give this reason of a journal (see LOAD_REASONS and
    HISTORY_LAGGED)."""
    if LOAD_REASONS.match(reason) or history_lagged(reason):
        return True
    compared = COMPARISON_FAILED.match(reason)
    return compared is not None and all(
        METRIC_DIFFERED.match(metric) for metric in compared["metrics"].split("; ")
    )


def load_can_explain(journal: dict[str, Any], status: int, predicts: str) -> bool:
    """Whether a run's exit and every reason its journal gives are ones load can give
    instead of the predicted verdict (the journal's own exit agreeing: a crash after
    the journal was written exits 1 too)."""
    reasons = journal.get("reasons") or []
    return (
        status in LOAD_CAN_GIVE[predicts]
        and journal.get("exit_code") == status
        and bool(reasons)
        and all(load_can_give(reason) for reason in reasons)
    )


def judged_alone_if_busy(
    path: Path,
    attempt: Callable[[], Run],
    status: Callable[[Run], int],
    journal_of: Callable[[Run], dict[str, Any]],
    set_aside: Callable[[Run], None],
    record: Callable[[str, object], None],
    *,
    busy: Callable[[], bool] | None = None,
    alone: Callable[[], AbstractContextManager[None]] | None = None,
    how: str = "alone on the machine",
) -> Run:
    """`attempt()`, a run of the experiment at `path`; when the machine was `busy()`
    at its start or end (by default: this worker did not hold every stack slot) and
    its exit and every reason in its journal (`journal_of`) are ones load can give
    instead of the predicted verdict (`load_can_explain`), its faults rolled back,
    `set_aside(run)` (what it left checked, its journal kept) and `attempt()` again
    `alone()` (`how`; by default holding every stack slot): the second decides, and
    `record` says both.

    Why: on two cores, three stacks and their runners judge each other's load. In a
    clean-clone run, ten library runs read 1-2 s stalls of every service at once
    (plays' p50 from 20 ms to 1.2-1.9 s for a second or three, the runner's own
    schedule late by up to 445 ms) and ended not steady or deviated against 99%
    objectives; the same tree had passed whole. A run alone judges the stack, not its
    neighbours; a regression deviates alone too."""
    predicts = load_experiment(path).predicts
    busy = busy or (lambda: not holds_every_slot())
    was_busy = busy()
    stalled, began = cpu_stalled_us(), time.monotonic()
    result = attempt()
    if not (was_busy or busy()):
        return result
    if status(result) not in LOAD_CAN_GIVE[predicts]:
        return result
    journal = journal_of(result)
    if not load_can_explain(journal, status(result), predicts):
        return result
    check_rolled_back(journal)
    first = (
        f"exit {status(result)} beside other stacks (predicted {PREDICTED_EXIT[predicts]}; "
        f"some task waited for a CPU {cpu_waited_since(stalled, began)} of the run's time): "
        + "; ".join(journal["reasons"])
    )
    sys.stdout.write(f"\n{path.stem}: {first}; run again {how}\n")
    set_aside(result)
    record(RAN_AGAIN, f"{path.stem}: {first}")
    with (alone or (lambda: alone_on_the_machine(regain=False)))():
        result = attempt()
    record(RAN_AGAIN, f"{path.stem}: again {how}, exit {status(result)}")
    return result


def check_rolled_back(journal: dict[str, Any]) -> None:
    """Every fault of the run was rolled back, without an error."""
    faults = journal["faults"]
    assert all(f["rolled_back_at"] is not None and not f["error"] for f in faults), [
        (f["description"], f["rolled_back_at"], f["error"]) for f in faults
    ]


def check_run(path: Path, journal: dict[str, Any], status: int, cleanup_output: str) -> None:
    """A library run ended as its experiment predicts, every fault verified and
    rolled back, and nothing left over; a comparison classified each metric as
    predicted, on samples from both cohorts, with the effect in the journal."""
    experiment = load_experiment(path)
    predicts = experiment.predicts
    assert status == PREDICTED_EXIT[predicts], journal["reasons"]
    assert journal["verdict"] == predicts
    assert all(f["verified_at"] is not None for f in journal["faults"]), journal["faults"]
    check_rolled_back(journal)
    assert "nothing left over" in cleanup_output, cleanup_output
    if path.stem in DEVIATES_BECAUSE:
        because = DEVIATES_BECAUSE[path.stem]
        assert all(because in reason for reason in journal["reasons"]), journal["reasons"]
    for fault in journal["faults"]:
        if fault["layer"] == "monkey":
            check_monkey(fault, path)
    if experiment.steady_state.compare is None:
        return
    metrics = {m["name"]: m for m in journal["comparison"]["metrics"]}
    found = {name: m["classification"] for name, m in metrics.items()}
    assert found == COMPARED[path.stem], [m["reason"] for m in metrics.values()]
    for metric in metrics.values():
        least = MIN_READS if metric["metric"] == "promql" else 10  # a read every few seconds
        assert min(metric["control_n"], metric["experiment_n"]) >= least, metric
        assert metric["ratio"] is not None and metric["p_value"] is not None, metric
        if metric["metric"] != "starts_per_second":  # rates: the difference, no interval
            assert metric["shift_low"] <= metric["shift"] <= metric["shift_high"], metric


#: The services members' journeys read from: each is called by a service that is not
#: a profiles replica. The other replicas are called only by their peers (anti-entropy
#: pulls, pushes) and by the writes forwarded to a member's home, a trickle: a restart
#: over in a second or a rule for a 10% cohort can meet none of it, honestly no effect.
READ_BY_MEMBERS = frozenset(
    dependency for caller, dependency in EDGES if caller not in PROFILES_REPLICAS.values()
)


def check_monkey(fault: dict[str, Any], path: Path) -> None:
    """A monkey step acted about as often as its mean says, every action it injected
    was verified and rolled back, each kind it chose on a service members read from had
    an effect there, and every action without one said why from evidence it could read."""
    step = next(s for s in load_experiment(path).method if s.name == fault["step"])
    events = fault["events"]
    injected = {e["action"] for e in events if e["event"] == "monkey_injected"}
    rolled_back = {e["action"] for e in events if e["event"] == "monkey_rolled_back"}
    failed = [e for e in events if e["event"] in ("monkey_failed", "monkey_rollback_failed")]
    assert not failed, failed
    assert injected and injected <= rolled_back, (injected, rolled_back)
    monkey = step.fault
    assert isinstance(monkey, MonkeyFault)
    # a turn while an action holds is skipped (one at a time): about one per mean + hold,
    # in the time its guard did not halt it
    expected = (step.duration - halted_s(events)) / (monkey.mean_s + monkey.hold_s)
    assert len(injected) >= expected / 2, f"{len(injected)} actions in {step.duration:g}s"
    chosen = {e["action"]: e for e in events if e["event"] == "monkey_chosen"}
    effects = {e["action"] for e in events if e["event"] == "monkey_effect"}
    silent = {e["action"]: e["why"] for e in events if e["event"] == "monkey_no_effect"}
    told = [f"{a} {chosen[a]['fault']} {chosen[a]['victim']}: {silent.get(a, 'effect')}"
            for a in sorted(injected)]  # fmt: skip
    assert effects, told
    # on a service members read, each kind bit at least once (a rule for the cohort can
    # meet no call while a breaker the action before opened still sheds them)
    read = [a for a in injected if chosen[a]["victim"] in READ_BY_MEMBERS]
    kinds = {chosen[a]["fault"] for a in read}
    assert kinds == {chosen[a]["fault"] for a in read if a in effects}, told
    assert not [why for why in silent.values() if "unreadable" in why], told


def halted_s(events: list[dict[str, Any]]) -> float:
    """The seconds a monkey step's guard held it halted, from its relayed journal."""
    total, since = 0.0, None
    for event in events:
        at = datetime.fromisoformat(event["at"]).timestamp() if "at" in event else None
        if event["event"] == "monkey_halted" and since is None:
            since = at
        elif event["event"] in ("monkey_resumed", "monkey_stopped") and since is not None:
            total += (at or since) - since
            since = None
    return total


def chaosbed(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`chaosbed ARGV` in a child process; its output is echoed for the test report."""
    done = subprocess.run(
        [sys.executable, "-m", "chaos", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    sys.stdout.write(done.stdout[-3000:] + done.stderr[-3000:])
    return done


def prometheus_value(url: str, query: str, *, wait_s: float = 0.0) -> float | None:
    """The Prometheus at `url`'s answer to `query` now (its first series), None for none;
    asked again for up to `wait_s` while there is none (a scrape on its way)."""

    async def read() -> Any:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/api/v1/query", params={"query": query}) as answer:
                return (await answer.json())["data"]["result"]

    deadline = time.monotonic() + wait_s
    while True:
        result = asyncio.run(read())
        if result or time.monotonic() >= deadline:
            return float(result[0]["value"][1]) if result else None
        time.sleep(0.2)
