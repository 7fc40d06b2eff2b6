"""`chaosbed mutate [--only NAME]`: does the experiment library catch each regression?

First the unmutated stack plays every experiment that covers a selected
mutant's mechanism, and must hold every prediction. Then, for each mutant, a
fresh stack starts with `CHAOSBED_MUTANT=<name>` and plays the experiments
whose `covers:` names its mechanism; a verdict other than the prediction
catches it, but not steady (nothing was injected). Prints the matrix and
writes it as JSON, JUnit XML and a Markdown table (chaos/mutate/matrix.py).
Exit 0 when every mutant was caught and every unmutated prediction held (no
false alarm, nothing not steady), 1 otherwise, 2 on invalid input.
"""

from __future__ import annotations

import argparse
import signal
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from chaos.exitcodes import ExitCode, interrupted_by
from chaos.gameday import Act, GameDay, play, verdict_table
from chaos.mutate.baseline import from_baseline
from chaos.mutate.matrix import (
    NO_VERDICT,
    UNMUTATED,
    Cell,
    Matrix,
    MutantRow,
    cell_of,
    dumps,
    matrix_junit,
    matrix_table,
)
from chaos.verify.lanes import estimated_seconds, lane_results
from services.common.mutants import ENV_VARIABLE, MUTANTS

from .command import Command, Context
from .lanes import Job, lane_bases_of, run_jobs, verify_argv
from .playing import act_runner, add_play_options, collect_runnable, output_directory
from .runtime_options import choice_of
from .verify import SHIPPED, add_parallel_option

__all__ = ["COMMAND"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="only this mutant (repeatable; default every mutant): " + ", ".join(MUTANTS),
    )
    parser.add_argument(
        "--experiments",
        type=Path,
        action="append",
        help="experiment and exploration files or directories (default: the shipped "
        "experiment library and explorations)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="take the unmutated verdicts from the journals under DIR (say, `verify --out DIR` "
        "of this tree) for each experiment they record exactly as loaded now, in this "
        "runtime; the rest are played on the unmutated stack",
    )
    add_parallel_option(parser)
    add_play_options(parser)


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        self.signum = signum


def _play_on_stack(
    label: str,
    mutant: str | None,
    acts: Sequence[Act],
    args: argparse.Namespace,
    context: Context,
    directory: Path,
) -> MutantRow:
    """Start a stack (with `mutant` on), play `acts`, stop it; the row of the matrix."""
    started = time.monotonic()
    mechanism = MUTANTS[mutant].mechanism if mutant else "-"
    context.say(f"\n=== {label}: {len(acts)} experiments ===")
    choice = replace(choice_of(args), environ=((ENV_VARIABLE, mutant or ""),))
    runtime = context.make_runtime(choice)
    journals = directory / (mutant or "unmutated")
    journals.mkdir(parents=True, exist_ok=True)  # a history is saved there before any journal
    runtime.up()
    try:
        day = GameDay(f"chaosbed mutate: {label}", "", label, tuple(acts))
        played = play(day, journals, act_runner(args, context, runtime),
                      say=context.say, pause=None)  # fmt: skip
    finally:
        runtime.down()
    context.say(verdict_table(played.results))
    if played.interrupted is not None:
        raise Interrupted(played.interrupted)
    cells = tuple(cell_of(r, mutated=mutant is not None) for r in played.results)
    return MutantRow(mutant or UNMUTATED, mechanism, cells, time.monotonic() - started)


def run(args: argparse.Namespace, context: Context) -> int:
    unknown = [name for name in args.only or () if name not in MUTANTS]
    if unknown:
        context.complain(f"--only {unknown[0]}: no such mutant; known: {', '.join(MUTANTS)}")
        return ExitCode.INVALID_INPUT
    selected = list(dict.fromkeys(args.only or MUTANTS))

    suite = collect_runnable(args.experiments or list(SHIPPED), args, context)
    if suite is None:
        return ExitCode.INVALID_INPUT
    covering = {
        name: [a for a in suite.acts if MUTANTS[name].mechanism in a.experiment.covers]
        for name in selected
    }
    needed = [a for a in suite.acts if any(a in acts for acts in covering.values())]
    read: tuple[Cell, ...] = ()
    if args.baseline is not None:
        results, needed = from_baseline(args.baseline, needed, args.runtime)  # BaselineError: 2
        read = tuple(cell_of(r, mutated=False) for r in results)
        context.say(
            f"baseline: {len(read)} of {len(read) + len(needed)} unmutated verdicts read "
            f"from {args.baseline}; {len(needed)} to play"
        )
    if args.parallel > 1:
        return _run_parallel(args, context, selected, covering, needed, read)
    directory = output_directory(args, "mutate")
    started = time.monotonic()
    rows: list[MutantRow] = []
    try:
        played = None
        if needed:
            played = _play_on_stack(UNMUTATED, None, needed, args, context, directory)
        if needed or read:
            rows.append(_unmutated_row(read, played))
        for name in selected:
            if not covering[name]:
                context.say(f"\n=== {name}: no experiment covers {MUTANTS[name].mechanism} ===")
                rows.append(MutantRow(name, MUTANTS[name].mechanism, ()))
                continue
            rows.append(_play_on_stack(name, name, covering[name], args, context, directory))
    except Interrupted as stop:
        context.complain(f"interrupted ({signal.Signals(stop.signum).name})")
        return interrupted_by(stop.signum)
    return _write_matrix(Matrix(tuple(rows), time.monotonic() - started, args.runtime),
                         directory, context)  # fmt: skip


def _unmutated_row(read: tuple[Cell, ...], played: MutantRow | None) -> MutantRow:
    """The unmutated stack's row: the verdicts read from the baseline, then those played."""
    if played is None:
        return MutantRow(UNMUTATED, "-", read)
    return replace(played, cells=read + played.cells)


def _write_matrix(matrix: Matrix, directory: Path, context: Context) -> int:
    table = matrix_table(matrix)
    context.say("\n" + table)
    (directory / "matrix.json").write_text(dumps(matrix))
    (directory / "matrix.xml").write_bytes(matrix_junit(matrix))
    (directory / "matrix.md").write_text(table + "\n")
    context.say(f"matrix: {directory / 'matrix.json'} (JUnit: matrix.xml, table: matrix.md)")
    return ExitCode.OK if matrix.ok else ExitCode.DEVIATED


def _run_parallel(
    args: argparse.Namespace,
    context: Context,
    selected: list[str],
    covering: dict[str, list[Act]],
    needed: list[Act],
    read: tuple[Cell, ...],
) -> int:
    """Each job (the unmutated stack, each covered mutant) a lane's child `verify
    --start-stack` with CHAOSBED_MUTANT set, N at a time, the longest first."""
    try:
        bases = lane_bases_of(args.parallel, args.port_base)
    except ValueError as error:
        context.complain(str(error))
        return ExitCode.INVALID_INPUT
    directory = output_directory(args, "mutate")
    paths = args.experiments or list(SHIPPED)
    plays: dict[str | None, list[Act]] = {None: needed} if needed else {}
    plays |= {name: covering[name] for name in selected if covering[name]}

    def job(mutant: str | None, acts: list[Act]) -> Job:
        out = directory / (mutant or "unmutated")
        argv = verify_argv(paths, [a.name for a in acts], runtime=args.runtime,
                           backend=args.backend, state_dir=out / "stack", out=out)  # fmt: skip
        label = f"{mutant or UNMUTATED}: {len(acts)} experiments"
        return Job(label, argv, out, ((ENV_VARIABLE, mutant or ""),))

    jobs = {mutant: job(mutant, acts) for mutant, acts in plays.items()}
    longest_first = sorted(
        jobs, key=lambda m: -sum(estimated_seconds(a.experiment) for a in plays[m])
    )
    context.say(
        f"{len(jobs)} stacks, {min(len(jobs), len(bases))} at a time "
        f"(port bases {', '.join(map(str, bases))}); writing to {directory}"
    )
    started = time.monotonic()
    ends, interrupted = run_jobs([jobs[m] for m in longest_first], bases, say=context.say)
    if interrupted is not None:
        context.complain(f"interrupted ({signal.Signals(interrupted).name})")
        return interrupted_by(interrupted)
    ended = {end.job: end for end in ends}
    rows: list[MutantRow] = []
    for mutant in [None, *selected]:
        name = mutant or UNMUTATED
        mechanism = MUTANTS[mutant].mechanism if mutant else "-"
        if mutant not in jobs:
            if mutant is not None:
                rows.append(MutantRow(name, mechanism, ()))
            elif read:
                rows.append(_unmutated_row(read, None))
            continue
        end = ended[jobs[mutant]]
        if end.status in (128 + signal.SIGINT, 128 + signal.SIGTERM):
            context.complain(f"{name}: its lane was interrupted ({end.complaint})")
            return end.status
        acts = plays[mutant]
        results = lane_results(acts, end.job.out)
        cells = [cell_of(r, mutated=mutant is not None) for r in results]
        why = f"not run: its stack ended (exit {end.status}) before it: {end.complaint}"
        cells += [Cell(a.name, "error", a.experiment.predicts, NO_VERDICT, why, "")
                  for a in acts[len(results):]]  # fmt: skip
        row = MutantRow(name, mechanism, tuple(cells), end.seconds)
        rows.append(row if mutant is not None else _unmutated_row(read, row))
    return _write_matrix(Matrix(tuple(rows), time.monotonic() - started, args.runtime),
                         directory, context)  # fmt: skip


COMMAND = Command(
    name="mutate",
    help="prove the experiments catch regressions: a stack per mutant, the matrix",
    description="For each mutant (a named regression the services carry, switched on with "
    "CHAOSBED_MUTANT; --only NAME for some) start a stack with it on and play the "
    "experiments whose `covers:` names its mechanism; a verdict other than the predicted "
    "one catches the mutant (not steady does not: nothing was injected). The unmutated "
    "stack plays them all first and must hold every prediction (--baseline DIR reads "
    "those verdicts from journals already written). "
    "Starts and stops the stack itself (the ports must be free); with --parallel "
    "N, N stacks at a time on the port bases B, B+10, ... Prints the "
    "matrix mutant x experiment and writes it as JSON, JUnit XML and a Markdown table. "
    "Exit 0 when every mutant was caught and every unmutated prediction held, 1 otherwise, "
    "2 on invalid input. "
    "Both runtimes (docker: compose passes CHAOSBED_MUTANT to every container).",
    configure=configure,
    run=run,
)
