"""chaosbed's run of a chaosbed experiment inside a Chaos Toolkit run.

An experiment exported with `chaosbed export --format ctk` carries the chaosbed
experiment in its `extensions` (`{name: chaosbed, experiment: {...}}`). chaosbed's
control (chaos.ctk.control) starts a `Session` before CTK's run: the runner
`chaosbed run` uses, in a thread with its own event loop, does the preflight,
starts the member load, warms up and holds the steady state, then accepts the
method's steps from CTK's `run_step` actions (chaos.runner.external), judging
every SLO about once a second while they play and stopping at an abort
condition. When CTK's method ends, the runner judges the tail, recovers and
checks the expectations; the verdict is what `chaosbed run` would have said.

One session at a time per process (CTK runs one experiment per process).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chaos.cli.run import runnable_problems
from chaos.experiment import ExperimentError
from chaos.experiment.loader import load_experiment_text
from chaos.experiment.model import Experiment, RecoveredWithin, Step
from chaos.gameday import ActResult
from chaos.report import write_report
from chaos.runner.external import ExternalMethod, MethodEnded
from chaos.runner.session import RunRequest, new_run_id, run_experiment
from chaos.runner.verdict import Outcome, Verdict
from chaos.verify.junit import junit_xml, write_junit

from .stack import ActivityError, Stack

__all__ = ["EXTENSION", "Session", "SessionFiles", "current", "experiment_of", "write_outputs"]

log = logging.getLogger("chaostoolkit")

#: The name of the CTK `extensions` entry that carries the chaosbed experiment.
EXTENSION = "chaosbed"
#: Beyond the recovery's limit, how long the verdict may take once CTK's method
#: ended: the tail (at most a minute), the stable stretch and the expectations.
VERDICT_SLACK_S = 180.0
#: Beyond the warm-up and hold, how long the method may take to begin (preflight).
READY_SLACK_S = 120.0
#: How long an interrupted run may take to roll back everything.
STOP_WAIT_S = 180.0


def experiment_of(ctk: Mapping[str, Any]) -> Experiment | None:
    """The chaosbed experiment a CTK experiment carries (None: it carries none), its
    source the file it was exported from. ActivityError when it is not a valid one,
    naming the field."""
    for extension in ctk.get("extensions") or []:
        if isinstance(extension, Mapping) and extension.get("name") == EXTENSION:
            break
    else:
        return None
    document = extension.get("experiment")
    source = str(extension.get("source") or "the CTK experiment's chaosbed extension")
    if not isinstance(document, Mapping):
        raise ActivityError(f"extensions[{EXTENSION}].experiment: must be a chaosbed experiment")
    try:
        text = yaml.safe_dump(dict(document), sort_keys=False)  # the lines are this text's
        carried = load_experiment_text(text, f"{source} (as the CTK experiment carries it)")
    except ExperimentError as error:
        raise ActivityError(f"extensions[{EXTENSION}].experiment: {error}") from None
    return dataclasses.replace(carried, source=source)


@dataclass(frozen=True)
class SessionFiles:
    journal: Path
    report: Path | None = None
    junit: Path | None = None


@dataclass
class Session:
    experiment: Experiment
    stack: Stack
    files: SessionFiles
    on_stopped_early: Callable[[], None] = lambda: None
    """Called in the session's thread when the run stopped the method while CTK's
    method was playing (an abort condition, a step that failed): CTK must stop too."""
    run_id: str = field(default_factory=new_run_id)
    method: ExternalMethod = field(init=False)
    outcome: Outcome | None = None
    in_method: bool = False  # CTK is playing its method (between its method hooks)
    method_ended: bool = False
    stopped_early: bool = False
    """The runner stopped the method before CTK's ended (an abort condition, a step
    that failed): the run goes on to its rollback, recovery and verdict."""
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _task: asyncio.Task[Any] | None = None
    _done: threading.Event = field(default_factory=threading.Event)
    _stopping: bool = False
    _cancelled: bool = False

    def __post_init__(self) -> None:
        self.method = ExternalMethod(on_stopped=self._stopped)

    def _stopped(self) -> None:
        if self.method_ended or self._stopping or not self.in_method:
            return  # CTK's side ended it or is stopping it, or CTK is not in its method
        self.stopped_early = True
        self.on_stopped_early()

    def start(self) -> None:
        """Check it can run here, then start it (preflight, load, warm-up, steady state)."""
        running = current()
        if running is not None and running.running:
            raise ActivityError(f"chaosbed's run {running.run_id} is still running here")
        problems = runnable_problems(
            self.experiment, self.stack.runtime_name, "auto", self.stack.state_dir
        )
        if problems:
            raise ActivityError(f"{self.experiment.source}: {problems[0]}")
        global _current
        _current = self
        # not a daemon: the interpreter waits for its rollback, whatever ends `chaos run`
        self._thread = threading.Thread(target=self._main, name="chaosbed-run")
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._done.is_set()

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        finally:
            self.method.close()  # a run that ended before its method: no step waits
            self._done.set()

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        try:
            if self._stopping:  # stopped before it began: nothing to inject, or roll back
                raise asyncio.CancelledError
            request = RunRequest(
                self.experiment, self.stack.runtime_name, self.files.journal, self.run_id,
                method=self.method,
            )  # fmt: skip
            self.outcome, _ = await run_experiment(request, self.stack.runtime)
        except asyncio.CancelledError:  # the runner rolls back on its own cancellation
            self.outcome = self.outcome or Outcome(Verdict.ABORTED, ["interrupted"])
        except Exception as error:  # noqa: BLE001 - said as the verdict, never lost
            self.outcome = Outcome(Verdict.FAILED, [f"the run failed: {error!r}"])

    # ------------------------------------------------------------ CTK's side

    def wait_ready(self) -> None:
        """Until the method may begin; ActivityError saying why when it may not
        (the preflight failed, the steady state did not hold)."""
        steady = self.experiment.steady_state
        if not self.method.wait_ready(steady.warmup + steady.hold + READY_SLACK_S):
            if self.running:
                self.stop()
                raise ActivityError("chaosbed's run did not reach its method in time")
            outcome = self.outcome or Outcome(Verdict.FAILED, ["the run ended"])
            raise ActivityError(
                f"chaosbed's run ended {outcome.verdict.value} before any fault: "
                + "; ".join(outcome.reasons)
            )

    def play(self, name: str) -> dict[str, Any]:
        """Play the step `name` now, to its rollback; what became of it."""
        from chaoslib.exceptions import InterruptExecution

        step = self._step(name)
        try:
            self.method.play(step)
        except MethodEnded:
            why = "; ".join(self.outcome.reasons) if self.outcome else "the method is over"
            raise ActivityError(f"step {name}: chaosbed's run is not playing ({why})") from None
        except asyncio.CancelledError:
            raise ActivityError(f"step {name}: stopped by chaosbed's run (aborted)") from None
        except InterruptExecution as interruption:
            # CTK's SIGTERM handler raised it in this thread, waiting on the step: CTK
            # would make it this activity's failure and go on to the next step. Stop.
            log.error("chaosbed: %s while step %s plays; stopping", interruption, name)
            raise SystemExit(20) from interruption  # CTK: interrupted (its graceful exit)
        return {"step": name, "played_for_s": step.duration, "run": self.run_id}

    def _step(self, name: str) -> Step:
        for step in self.experiment.method:
            if step.name == name:
                return step
        known = ", ".join(s.name for s in self.experiment.method)
        raise ActivityError(f"step {name!r}: the experiment has no such step (it has {known})")

    def begin_method(self) -> None:
        self.in_method = True

    def end_method(self) -> None:
        """CTK's method ended: no step is accepted any more; the runner goes on to the
        tail and the verdict."""
        self.method_ended = True
        self.in_method = False
        self.method.end()

    def verdict_wait_s(self) -> float:
        """How long the verdict may take once CTK's method ended: the tail, the
        recovery (its `recovered_within`, else 30 s) and the expectations."""
        limits = [e.seconds for e in self.experiment.expect if isinstance(e, RecoveredWithin)]
        return VERDICT_SLACK_S + max(limits or [30.0])

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(self.verdict_wait_s() if timeout is None else timeout)

    def stop(self, timeout: float = STOP_WAIT_S) -> None:
        """Interrupt the run (as Ctrl-C does `chaosbed run`), once: every fault is
        rolled back. Waits for it to end; another Ctrl-C meanwhile does not stop the
        wait (the rollback is running)."""
        self._stopping = True
        loop, task = self._loop, self._task
        if not self._cancelled and not self._done.is_set() and loop is not None:
            if task is not None:
                self._cancelled = True
                loop.call_soon_threadsafe(task.cancel)
        deadline = time.monotonic() + timeout
        while not self._done.is_set() and time.monotonic() < deadline:
            try:
                self._done.wait(1.0)
            except BaseException:  # noqa: BLE001 - a second Ctrl-C: the rollback goes on
                log.warning("chaosbed: still rolling back run %s; wait for it", self.run_id)
        if not self._done.is_set():
            log.error("chaosbed: the run did not stop within %gs; run `chaosbed cleanup`", timeout)

    @property
    def verdict(self) -> str:
        return self.outcome.verdict.value if self.outcome else "none"

    def write(self) -> dict[str, Any]:
        """The report and JUnit beside the journal, and what CTK's journal records."""
        said: dict[str, Any] = {"run": self.run_id}
        if not self.files.journal.is_file():
            reasons = list(self.outcome.reasons) if self.outcome else ["the run never ended"]
            return said | {"verdict": self.verdict, "reasons": reasons, "journal": None}
        return said | write_outputs(self.files, self.experiment.title, self.experiment.source)


def write_outputs(files: SessionFiles, title: str, source: str) -> dict[str, Any]:
    """The report and JUnit of the chaosbed journal at `files.journal` (as asked), and
    what CTK's journal records of them: the verdict, its reasons, where each file is."""
    result = ActResult.of_journal(
        title, files.journal, json.loads(files.journal.read_text()), source
    )
    said: dict[str, Any] = {
        "verdict": result.verdict,
        "predicts": result.predicts,
        "reasons": list(result.reasons),
        "journal": str(files.journal),
    }
    if files.report is not None:
        said["report"] = str(write_report(files.journal, files.report))
    if files.junit is not None:
        said["junit"] = str(write_junit(files.junit, junit_xml([result])))
    return said


_current: Session | None = None


def current() -> Session | None:
    """The session of this process's CTK run, if its control started one."""
    return _current
