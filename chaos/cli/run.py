"""`chaosbed run EXPERIMENT`: one experiment against the running stack.

Validates the file before anything is touched (exit 2), prints the plan with
`--dry-run`, otherwise runs it (see docs/experiments.md for the lifecycle)
and writes the journal. SIGINT and SIGTERM roll every fault back and still
write the journal; the exit status is then 130 or 143.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path

from chaos.exitcodes import ExitCode, interrupted_by
from chaos.experiment import ExperimentError
from chaos.experiment.model import Experiment, Fault, ProcessFault, Slo
from chaos.experiment.plan import render_plan, static_targets
from chaos.experiment.runnable import check_runnable
from chaos.explore.exploration import Exploration, Playable, load_playable
from chaos.runner import RunOptions
from chaos.runner.session import RunRequest, new_run_id, run_experiment
from chaos.runtime.interface import Runtime
from chaos.slo import UnsupportedIndicator, plan, to_promql

from .command import Command, Context
from .runtime_options import add_runtime_options, capabilities_of, choice_of

__all__ = ["COMMAND", "run_interruptibly", "runnable_problems"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", type=Path, help="the experiment file (YAML)")
    add_runtime_options(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and print the plan; touch nothing"
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "prometheus", "scrape"),
        default="auto",
        help="where SLIs are read: the stack's Prometheus, or the runner's own scrapes "
        "(default auto: Prometheus when the stack runs one)",
    )
    parser.add_argument("--prometheus-url", help="read SLIs from this Prometheus instead")
    parser.add_argument(
        "--journal", type=Path, help="where to write the journal (default STATE_DIR/runs/RUN_ID)"
    )
    parser.add_argument("--seed", type=int, help="seed for choosing instances")


def describe_query(slo: Slo) -> str:
    try:
        return to_promql(slo)
    except UnsupportedIndicator as exc:
        return f"(cannot be read: {exc})"


def resolver(runtime: Runtime) -> Callable[[Fault], list[str]]:
    def resolve(fault: Fault) -> list[str]:
        if isinstance(fault, ProcessFault):
            try:
                found = asyncio.run(runtime.instances(fault.target))
            except Exception as exc:  # noqa: BLE001 - the plan says it cannot tell
                return [f"{fault.target} (instances unknown: {exc})"]
            if not found:
                return [f"{fault.target} (no instance running now)"]
            return [f"{i.instance} ({i.state}, pid {i.pid})" for i in found]
        return static_targets(fault)

    return resolve


def runnable_problems(
    experiment: Playable, runtime: str, backend: str, state_dir: Path | None = None
) -> list[str]:
    """Every reason a valid experiment (or exploration) cannot run on this runtime with
    this SLI backend."""
    if isinstance(experiment, Exploration):  # no SLI is read: any backend will do
        if experiment.runtimes and runtime not in experiment.runtimes:
            only = ", ".join(experiment.runtimes)
            return [f"runtimes: this exploration runs in {only} only, not {runtime}"]
        return []
    problems = [
        f"{problem.where}: {problem.message}"
        for problem in check_runnable(experiment, runtime, capabilities_of(runtime, state_dir))
    ]
    if backend == "scrape":
        for slo in experiment.steady_state.slos:
            try:
                plan(slo)
            except UnsupportedIndicator as exc:
                problems.append(f"SLO {slo.name}: {exc}")
        compare = experiment.steady_state.compare
        for metric in compare.metrics if compare is not None else ():
            if metric.metric == "promql":
                problems.append(
                    f"compared metric {metric.name}: raw PromQL needs the prometheus backend "
                    f"(a stack whose Prometheus answers, or --backend prometheus)"
                )
    return problems


def validate(args: argparse.Namespace, context: Context) -> Experiment | None:
    """The experiment, or None after saying every reason it cannot run here."""
    try:
        found = load_playable(args.experiment)
        if isinstance(found, Exploration):
            context.complain(
                f"{args.experiment}: an exploration, not an experiment: `chaosbed verify "
                f"{args.experiment}` plays it (or `chaosbed explore`)"
            )
            return None
        experiment = found
    except ExperimentError as exc:
        context.complain(str(exc))
        return None
    except OSError as exc:
        context.complain(f"{args.experiment}: {exc.strerror or exc}")
        return None
    problems = runnable_problems(experiment, args.runtime, args.backend, args.state_dir)
    for problem in problems:
        context.complain(f"{args.experiment}: {problem}")
    return None if problems else experiment


def run(args: argparse.Namespace, context: Context) -> int:
    experiment = validate(args, context)
    if experiment is None:
        return ExitCode.INVALID_INPUT
    runtime = context.make_runtime(choice_of(args))
    if args.dry_run:
        context.say(
            render_plan(
                experiment,
                resolver(runtime),
                describe_query,
                capabilities=capabilities_of(args.runtime, args.state_dir),
            )
        )
        return ExitCode.OK
    run_id = new_run_id()
    journal = args.journal or args.state_dir / "runs" / run_id / "journal.json"
    request = RunRequest(
        experiment,
        args.runtime,
        journal,
        run_id,
        backend=args.backend,
        prometheus_url=args.prometheus_url,
        options=RunOptions(),
        seed=args.seed,
    )
    context.say(f"run {run_id}: {experiment.title} ({args.runtime} runtime)")
    outcome, received = asyncio.run(run_interruptibly(request, runtime, context))
    context.say(f"journal: {journal}")
    if received is not None:
        context.complain(f"interrupted ({signal.Signals(received).name}): every fault rolled back")
        return interrupted_by(received)
    return outcome


async def run_interruptibly(
    request: RunRequest, runtime: Runtime, context: Context
) -> tuple[int, int | None]:
    """Run with SIGINT and SIGTERM cancelling the run (which then rolls back)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def interrupt(signum: int) -> None:
        if not received:
            received.append(signum)
            inner.cancel()

    inner = asyncio.ensure_future(run_experiment(request, runtime, progress_stream=context.out))
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupt, signum)
    try:
        outcome, _ = await inner
    except asyncio.CancelledError:  # interrupted before the runner started: nothing injected
        return ExitCode.ABORTED, (received[0] if received else signal.SIGINT)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
    return outcome.exit_code, (received[0] if received else None)


COMMAND = Command(
    name="run",
    help="run one experiment against the running stack",
    description="Validate EXPERIMENT (exit 2 on any error, naming file, line and field), "
    "then: preflight, member load, warm-up, steady state (exit 3 if it does not hold; "
    "nothing is injected), the method with SLOs checked about once a second (exit 4 when "
    "an abort condition fires or a critical compared metric is significantly worse in the "
    "experiment cohort), rollback (always), recovery and expectations. Exit 0 when "
    "the hypothesis held, 1 when it deviated, 5 when the infrastructure failed. The "
    "journal (JSON) is written in every case. The format: docs/experiments.md.",
    configure=configure,
    run=run,
)
