"""`chaosbed explore [JOURNEY...]`: every call site of each journey, every fault, one
request each, checked against the contract (docs/explore.md)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path

from chaos.exitcodes import ExitCode
from chaos.explore import DEFAULT_CONTRACT, EXPLORED, Execution, load_contract
from chaos.explore.exploration import Exploration
from chaos.explore.output import matrix_lines, progress_line, write_junit
from chaos.explore.session import exploration_journal, run_exploration
from chaos.gameday.play import write_json
from chaos.report import write_report

from .command import Command, Context
from .runtime_options import add_runtime_options, choice_of

__all__ = ["COMMAND"]


def configure(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument(
        "journeys",
        nargs="*",
        metavar="JOURNEY",
        help=f"the journeys to explore: {', '.join(EXPLORED)} (default: all)",
    )
    parser.add_argument(
        "--contract",
        type=Path,
        default=DEFAULT_CONTRACT,
        help="the contract each execution is checked against (default: the shipped one)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write explore.json (the journal), explore.xml (JUnit) and "
        "explore.html (the report) (default .chaosbed/explore/<exploration>)",
    )
    parser.add_argument(
        "--depth",
        type=int,
        choices=(1, 2),
        default=1,
        help="1: one fault per execution (default); 2: also every pair of a fault and a "
        "site its execution still reached",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="executions in flight at once (default 4)",
    )


def run(args: argparse.Namespace, context: Context) -> int:
    if getattr(args, "runtime", None) == "cluster":
        context.complain(
            "explore does not run on the cluster runtime: its faults are application-layer "
            "rules, and a rule set through a Service's address reaches one of its pods, "
            "not every one (use --runtime process or docker)"
        )
        return ExitCode.INVALID_INPUT
    unknown = [j for j in args.journeys if j not in EXPLORED]
    if unknown:
        context.complain(f"JOURNEY: {', '.join(unknown)} is not one of {', '.join(EXPLORED)}")
        return ExitCode.INVALID_INPUT
    if args.concurrency < 1:
        context.complain(f"--concurrency: at least 1, got {args.concurrency}")
        return ExitCode.INVALID_INPUT
    load_contract(args.contract)  # an invalid contract: exit 2, before anything is sent
    journeys = tuple(dict.fromkeys(args.journeys)) or EXPLORED
    exploration = Exploration(
        title=f"chaosbed explore: {', '.join(journeys)}",
        hypothesis="every execution meets the contract",
        journeys=journeys,
        depth=args.depth,
        contract=args.contract,
        concurrency=args.concurrency,
    )
    runtime = context.make_runtime(choice_of(args))

    def progress(execution: Execution) -> None:
        print(progress_line(execution), file=context.err, flush=True)

    started = datetime.now(UTC)
    explored = asyncio.run(run_exploration(exploration, runtime, progress=progress))
    executions = explored.executions
    out = args.out or args.state_dir / "explore" / explored.exploration
    out.mkdir(parents=True, exist_ok=True)
    journal = write_json(
        out / "explore.json", exploration_journal(exploration, args.runtime, started, explored)
    )
    write_junit(out / "explore.xml", explored.exploration, executions)
    report = write_report(journal, out / "explore.html")
    for line in matrix_lines(executions):
        context.say(line)
    violations = [e for e in executions if e.violations]
    for execution in violations:
        context.say(f"VIOLATION {execution.name} (request {execution.request_id}):")
        for violation in execution.violations:
            context.say(f"  - {violation}")
    context.say(
        f"{len(executions)} executions in {explored.seconds:.1f}s, {len(violations)} violating "
        f"the contract; {journal} (JUnit: explore.xml, report: {report.name})"
    )
    if explored.exit_code == ExitCode.STEADY_STATE_NOT_MET:
        context.complain("a fault-free execution was not ok: the stack is not steady")
    return explored.exit_code


COMMAND = Command(
    name="explore",
    help="every call site of each member journey, every fault, one request each",
    description="Learn each journey's dependency calls on every hop from one fault-free "
    "request, then send one request per (call site, fault) carrying a fault plan signed "
    "with the stack's control token (nothing else on the stack is touched), and check "
    "what the member got against the contract. Writes the journal (explore.json), JUnit "
    "(explore.xml) and the report (explore.html). Exits 0 when every execution met it, 1 "
    "when any did not, 3 when a journey's fault-free execution was not ok (the stack is not "
    "steady: its faults were not explored), 5 when the stack could not be explored.",
    configure=configure,
    run=run,
)
