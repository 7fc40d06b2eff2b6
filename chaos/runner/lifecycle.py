"""One experiment from preflight to journal.

preflight -> load -> warm-up -> steady state (must hold, on a baseline
that could be a healthy one, else exit 3 and nothing is injected) -> method
(SLOs read about once a second; an abort condition stops it at once) ->
tail (judged as part of the method) -> rollback (always: normal end, abort,
exception, cancellation by SIGINT/SIGTERM) -> recovery -> expectations.

The `Monitor` task reads every SLO (and samples every breaker) once per
`interval` from the load's start to the end of recovery; the phases wait on
its checks. How the checks become a verdict is `judgement`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import median

from chaos.experiment import limits
from chaos.experiment.describe import describe_fault
from chaos.experiment.model import Experiment, HistoryHolds, MonkeyHalts, RecoveredWithin, Step
from chaos.faults.base import FaultDriver, Injection
from chaos.faults.errors import FaultError
from chaos.slo import SliReader

from .comparison import Comparison
from .expectations import ExpectationResult, check_expectations
from .external import ExternalMethod
from .history_driver import HistoryDriver, fault_windows
from .journal import Journal
from .judgement import baseline_problem, evidence, recovery_start, stable_stretch, tail_seconds
from .member_evidence import MemberEvidence
from .monitor import Monitor
from .monkey_halts import monkey_halted
from .ports import LoadDriver, Preflight
from .progress import Progress
from .rollback import Rollbacks
from .verdict import Outcome, Verdict

__all__ = ["PROMETHEUS_SCRAPE_INTERVAL", "RunOptions", "Runner"]

#: How often a stack's Prometheus scrapes, at most (the slowest runtime's).
PROMETHEUS_SCRAPE_INTERVAL = max(limits.SCRAPE_INTERVALS.values())


@dataclass(frozen=True)
class RunOptions:
    interval: float = 1.0  # seconds between SLO checks
    scrape_interval: float = PROMETHEUS_SCRAPE_INTERVAL  # the SLI backend's, set by the wiring
    ttl_margin: float = limits.RULE_TTL_MARGIN  # a rule outlives its step by at most this
    recovery_timeout: float = 30.0  # when no recovered_within is expected
    rollback_timeout: float = 20.0  # per fault


class _Aborted(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Runner:
    def __init__(
        self,
        experiment: Experiment,
        *,
        drivers: Sequence[FaultDriver],
        reader: SliReader,
        journal: Journal,
        load: LoadDriver | None = None,
        preflight: Preflight | None = None,
        progress: Progress | None = None,
        history: HistoryDriver | None = None,
        comparison: Comparison | None = None,
        method: ExternalMethod | None = None,
        options: RunOptions = RunOptions(),
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.experiment = experiment
        self._drivers = drivers
        self._reader = reader
        self._journal = journal
        self._load = load
        self._preflight = preflight
        self._progress = progress or Progress(None)
        self._history = history
        self._comparison = comparison
        self._external = method  # the method's steps come from elsewhere (a CTK run)
        self._comparison_failed = ""  # why the looks at the cohorts stopped, if they failed
        self._planned_end: float | None = None  # when the looks' plan ends (monotonic)
        self._options = options
        self._clock = clock
        self._wall = wall
        self.phase = "preflight"
        self._baseline: dict[str, float | None] = {}
        self._monitor = Monitor(
            experiment.steady_state.slos,
            experiment.abort_when,
            reader,
            journal,
            self._progress,
            phase=lambda: self.phase,
            baseline=self._baseline,
            interval=options.interval,
            clock=clock,
            wall=wall,
        )
        self._abort = self._monitor.abort
        self._healed_wall: float | None = None  # when the last rollback ended
        self._rollbacks = Rollbacks(self._driver_for, journal, lambda: self.phase, options)

    # ------------------------------------------------------------ the run

    async def run(self) -> Outcome:
        journal = self._journal
        for slo in self.experiment.steady_state.slos:
            journal.objectives[slo.name] = {
                "op": slo.objective.op,
                "threshold": slo.objective.threshold,
                "relative_percent": slo.objective.relative_percent,
                "window": slo.window,
            }
        monitor: asyncio.Task[None] | None = None
        outcome: Outcome
        interrupted = False
        try:
            problems = await self._preflight() if self._preflight else []
            if problems:
                for problem in problems:
                    journal.event("preflight", "problem", detail=problem)
                return self._finish(Outcome(Verdict.FAILED, [f"preflight: {p}" for p in problems]))
            journal.event("preflight", "passed")
            if self._load is not None:
                await self._load.start()
                journal.event("load", "started")
            if self._history is not None:
                await self._history.start()
                journal.event("load", "history_started")
            monitor = asyncio.create_task(self._monitor.run(self._judged), name="slo-monitor")
            outcome = await self._steady_then_method()
        except asyncio.CancelledError:
            interrupted = True
            journal.event(self.phase, "interrupted")
            outcome = Outcome(Verdict.ABORTED, [f"interrupted during {self.phase}"])
        except FaultError as exc:
            journal.event(self.phase, "fault_failed", detail=str(exc))
            outcome = Outcome(Verdict.FAILED, [str(exc)])
        except Exception as exc:
            journal.event(self.phase, "error", detail=repr(exc))
            outcome = Outcome(Verdict.FAILED, [f"the runner failed: {exc!r}"])
        finally:
            self._set_phase("rollback")
            rollback_interrupted = await self._rollbacks.all("rollback")
        if rollback_interrupted and not interrupted:
            interrupted = True
            journal.event("rollback", "interrupted")
            outcome = Outcome(Verdict.ABORTED, [*outcome.reasons, "interrupted during rollback"])
        recoverable = (Verdict.HELD, Verdict.DEVIATED, Verdict.ABORTED)
        try:
            if not interrupted and not self._monitor.failed and outcome.verdict in recoverable:
                outcome = await self._recover_and_expect(outcome)
        except asyncio.CancelledError:
            outcome = Outcome(Verdict.ABORTED, [*outcome.reasons, "interrupted during recovery"])
        except Exception as exc:  # the monitor died during recovery: no verdict on it
            outcome = Outcome(Verdict.FAILED, [*outcome.reasons, f"recovery: {exc}"])
        finally:
            await self._stop(monitor)
        return self._finish(outcome)

    async def _steady_then_method(self) -> Outcome:
        steady = self.experiment.steady_state
        self._set_phase("warmup")
        await self._sleep(steady.warmup)
        self._set_phase("steady")
        failures = await self._steady_state(steady.hold)
        if failures:
            return Outcome(Verdict.NOT_STEADY, failures)
        self._set_phase("method")
        method_t = self._journal.now()
        method_clock = self._clock()
        self._journal.timings["method_started_at"] = self._wall()
        self._journal.timings["method_t"] = method_t
        looks = self._start_looks(method_clock)
        try:
            await self._method()
            await self._tail()
        except _Aborted as aborted:
            self._judge(method_t, method_clock)
            broke = self._comparison_failed or self._monitor.failed
            if broke:  # the judge broke, not the system: no verdict
                return Outcome(Verdict.FAILED, [broke])
            return Outcome(Verdict.ABORTED, [aborted.reason])
        finally:
            if looks is not None:
                looks.cancel()
                await asyncio.gather(looks, return_exceptions=True)
        reasons = self._judge(method_t, method_clock)
        return Outcome(Verdict.DEVIATED if reasons else Verdict.HELD, reasons)

    def _start_looks(self, method_clock: float) -> asyncio.Task[None] | None:
        """Look at the cohorts about once an interval until the end of the tail."""
        comparison = self._comparison
        if comparison is None:
            return None
        planned = self.experiment.method_duration + self._tail_seconds()
        margin = limits.COMPARE_PLAN_MARGIN  # slow injections and rollbacks run past a plan
        self._planned_end = planned_end = method_clock + margin * planned + 1.0

        async def looks() -> None:
            try:
                while not self._abort.is_set():
                    await asyncio.sleep(self._options.interval)
                    await comparison.sample(self._clock())  # the promql metrics that are due
                    reason = comparison.look(method_clock, self._clock(), planned_end)
                    if reason is not None:
                        self._monitor.trigger_abort(reason)
            except Exception as exc:  # nobody may run a method whose critical metrics
                self._comparison_failed = f"the cohorts' comparison failed: {exc!r}"
                self._journal.event(self.phase, "comparison_failed", detail=repr(exc))
                self._monitor.trigger_abort(self._comparison_failed)  # nobody watches

        return asyncio.create_task(looks(), name="cohort-looks")

    async def _steady_state(self, hold: float) -> list[str]:
        """Every SLO must have data and hold at every check for `hold` seconds.

        A relative objective has no limit yet (its baseline is what this
        phase measures): it only needs data. The baseline is the median.
        """
        slos = self.experiment.steady_state.slos
        values: dict[str, list[float]] = {s.name: [] for s in slos}
        failures: dict[str, str] = {}
        end = self._clock() + hold
        while True:
            readings = await self._monitor.next_readings()
            for name, reading in readings.items():
                if reading.value is not None:
                    values[name].append(reading.value)
                if reading.ok is False and name not in failures:
                    failures[name] = (
                        f"SLO {name} did not hold before any fault: {reading.value:g} "
                        f"(objective {reading.slo.objective.op} {reading.limit:g})"
                    )
            if self._clock() >= end:
                break
        for slo in slos:
            seen = values[slo.name]
            self._baseline[slo.name] = median(seen) if seen else None
            if not seen:
                failures.setdefault(slo.name, f"SLO {slo.name}: no data before any fault")
            problem = baseline_problem(slo, self._baseline[slo.name])
            if problem is not None:
                failures.setdefault(slo.name, problem)
        self._journal.baseline = dict(self._baseline)
        self._journal.event("steady", "baseline", values=dict(self._baseline))
        found = list(failures.values())
        if self._comparison is not None:  # a compared query that cannot be read: not now
            found += await self._comparison.check_reads()
        return found

    async def _method(self) -> None:
        if self._external is not None:
            return await self._external_method(self._external)
        steps = self.experiment.method
        start = self._clock()
        tasks = [asyncio.create_task(self._step(step, start), name=step.name) for step in steps]
        abort_wait = asyncio.create_task(self._abort.wait(), name="abort-wait")
        try:
            pending: set[asyncio.Task[object]] = set(tasks)
            while pending:
                done, _ = await asyncio.wait(
                    pending | {abort_wait}, return_when=asyncio.FIRST_COMPLETED
                )
                if abort_wait in done:
                    raise _Aborted(self._monitor.abort_reason)
                for task in done:
                    pending.discard(task)
                    task.result()  # a failed step fails the method
        finally:
            for task in [*tasks, abort_wait]:
                task.cancel()
            await asyncio.gather(*tasks, abort_wait, return_exceptions=True)

    async def _external_method(self, external: ExternalMethod) -> None:
        """The steps as they come from `external`, each played as the runner's own,
        until it says the method ended; an abort condition stops it as it does a
        method of the runner's."""
        playing = asyncio.create_task(external.run(self._step, self._clock), name="external")
        abort_wait = asyncio.create_task(self._abort.wait(), name="abort-wait")
        try:
            done, _ = await asyncio.wait({playing, abort_wait}, return_when="FIRST_COMPLETED")
            if abort_wait in done:
                raise _Aborted(self._monitor.abort_reason)
            playing.result()  # a failed step fails the method
            unplayed = [s.name for s in self.experiment.method if s.name not in external.played]
            if unplayed:  # a method without its faults: its verdict would be evidence of nothing
                raise FaultError(unplayed[0], "never played: the method ended without it")
        finally:
            for task in (playing, abort_wait):
                task.cancel()
            await asyncio.gather(playing, abort_wait, return_exceptions=True)
            self._journal.event("method", "external_ended", steps=list(external.played))

    async def _step(self, step: Step, method_start: float) -> None:
        await self._sleep(method_start + step.offset - self._clock())
        if self._abort.is_set():  # aborted in the same tick as this step's offset
            return
        driver = self._driver_for(step)
        window = f"for {step.duration:g}s at +{step.offset:g}s"
        description = f"{describe_fault(step.fault)} {window}"
        injection = Injection(step.name, getattr(driver, "layer", "?"), description)
        injection.on_event = lambda what, **detail: self._journal.event(self.phase, what, **detail)
        self._rollbacks.track(step, injection)
        since = self._wall()
        ops = self._history.operations if self._history is not None else None
        evidence = MemberEvidence(self._reader, self._load, ops)  # members' counts from now on
        injection.began_at = self._journal.now()
        await driver.inject(step, injection, ttl=step.duration + self._options.ttl_margin)
        injection.injected_at = self._journal.now()
        self._journal.event("method", "injected", step=step.name, fault=injection.description)
        await driver.verify(step, injection)
        injection.verified_at = self._journal.now()
        self._journal.event("method", "verified", step=step.name, how=injection.verification)
        await self._sleep(step.duration - (self._journal.now() - injection.injected_at))
        await driver.confirm_effect(step, injection, evidence, since)  # else NoEffect
        self._journal.event("method", "effect", step=step.name, how=injection.effect)
        await self._rollbacks.one(step, injection, "step ended")

    # ------------------------------------------------------------ judging

    async def _tail(self) -> None:
        """After the last rollback the method is judged on, for late damage to show
        (an abort condition still stops it)."""
        self._set_phase("tail")
        self._healed_wall = self._wall()
        seconds = self._tail_seconds()
        self._journal.timings["tail_s"] = seconds
        try:
            async with asyncio.timeout(seconds):
                await self._abort.wait()
        except TimeoutError:
            return
        raise _Aborted(self._monitor.abort_reason)

    def _tail_seconds(self) -> float:
        load = self.experiment.load
        return tail_seconds(
            self.experiment.steady_state.slos,
            request_timeout=load.timeout if load is not None else None,
            scrape_interval=self._options.scrape_interval,
        )

    def _judge(self, since: float, since_clock: float) -> list[str]:
        """Every SLO over the checks since the method began, and the cohorts'
        comparison over the same period; journals the evidence."""
        until = self._journal.now()
        checks = [c for c in self._monitor.checks if since <= c.t <= until]
        found = [evidence(slo, checks) for slo in self.experiment.steady_state.slos]
        self._journal.judgement = {
            "from_t": since,
            "to_t": until,
            "slos": {e.slo: e.to_json() for e in found},
        }
        reasons = [reason for e in found for reason in e.reasons()]
        if self._comparison is not None:
            compared, self._journal.comparison = self._comparison.judge(
                since_clock, self._clock(), self._planned_end
            )
            reasons += compared
        return reasons

    # ------------------------------------------------------------ after the method

    async def _recover_and_expect(self, outcome: Outcome) -> Outcome:
        self._set_phase("recovery")
        healed_wall = self._healed_wall or self._wall()  # an aborted run: its rollbacks just ended
        limit = max(
            [e.seconds for e in self.experiment.expect if isinstance(e, RecoveredWithin)]
            or [self._options.recovery_timeout]
        )
        recovered_after = await self._recovery(limit)
        reasons = list(outcome.reasons)
        if recovered_after is None:
            stretch = self._journal.timings["stable_s"]
            reasons.append(
                f"SLOs were not all met for {stretch:g}s in a row within {limit:g}s "
                "of the last rollback's start"
            )
        self._set_phase("expectations")
        since = self._journal.timings.get("method_started_at") or self._journal.started_wall
        results = await check_expectations(
            self.experiment.expect,
            self._reader,
            since=float(since),
            seconds=max(1.0, self._wall() - float(since)),
            recovered_after=recovered_after,
        )
        results += await self._history_results(healed_wall)
        results += self._monkey_results()
        self._journal.expectations = [r.to_json() for r in results]
        reasons += [
            f"expected {r.expectation}, but not so: {r.measured}" for r in results if not r.met
        ]
        verdict = outcome.verdict
        if verdict is Verdict.HELD and reasons:
            verdict = Verdict.DEVIATED
        return Outcome(verdict, reasons)

    async def _recovery(self, limit: float) -> float | None:
        """Seconds from the start of the last rollback (the fault's removal) to the
        start of a stable stretch (every SLO met throughout); None when none began
        within `limit` and lasted."""
        now = self._journal.now
        since = self._rollbacks.last_started_at
        since = now() if since is None else since
        stretch = stable_stretch(self.experiment.steady_state.slos, self._options.interval)
        deadline = since + limit + stretch + self._options.interval
        checks = self._monitor.checks
        start = recovery_start(checks, since, stretch)
        while start is None and now() < deadline:
            await self._monitor.next_readings()
            start = recovery_start(checks, since, stretch)
        recovered_after = None if start is None else round(start - since, 3)
        self._journal.timings.update(
            rollback_started_t=since,
            stable_s=stretch,
            stable_from_t=start,
            recovered_after_s=recovered_after,
        )
        self._journal.event("recovery", "not_recovered" if start is None else "recovered")
        return recovered_after

    async def _history_results(self, healed_wall: float) -> list[ExpectationResult]:
        wanted = [e for e in self.experiment.expect if isinstance(e, HistoryHolds)]
        if not wanted:
            return []
        if self._history is None:
            return [ExpectationResult("history", False, "no history workload was run")]
        faults = fault_windows(self._journal.injections, now=self._journal.now(), wall=self._wall())
        return [await self._history.check(wanted[0], healed_wall, faults=faults)]

    def _monkey_results(self) -> list[ExpectationResult]:
        wanted = [e for e in self.experiment.expect if isinstance(e, MonkeyHalts)]
        offset = self._wall() - self._journal.now()
        return [
            monkey_halted(expectation, self._journal.injections, offset) for expectation in wanted
        ]

    # ------------------------------------------------------------ helpers

    async def _stop(self, monitor: asyncio.Task[None] | None) -> None:
        if monitor is not None:
            monitor.cancel()
            # a monitor that failed has said so in the journal and the verdict
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await monitor
        if self._load is not None:
            with contextlib.suppress(Exception):
                self._journal.load = await self._load.stop()
        if self._history is not None:  # a run that never reached its check stops it here
            with contextlib.suppress(Exception):
                await self._history.cancel()

    def _finish(self, outcome: Outcome) -> Outcome:
        if self._rollbacks.any_failed:  # whatever the verdict, a fault may be left behind
            failed = "a rollback failed: run `chaosbed cleanup`"
            outcome = Outcome(Verdict.FAILED, [*outcome.reasons, failed])
        self._journal.verdict = outcome.verdict.value
        self._journal.exit_code = outcome.exit_code
        self._journal.reasons = list(outcome.reasons)
        self._journal.event("done", "verdict", verdict=outcome.verdict.value)
        self._progress.finish(outcome)
        return outcome

    def _judged(self) -> bool:
        return self.phase in ("method", "tail")

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self._journal.event(phase, "phase")

    def _driver_for(self, step: Step) -> FaultDriver:
        for driver in self._drivers:
            if driver.accepts(step):
                return driver
        raise FaultError(step.name, f"no driver for a {type(step.fault).__name__} here")

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)
