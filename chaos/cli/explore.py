"""`chaosbed explore [JOURNEY...]`: every call site of each journey, every fault, one
request each, checked against the contract (docs/explore.md)."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode
from chaos.explore import DEFAULT_CONTRACT, EXPLORED, Execution, explore, load_contract
from chaos.explore.output import matrix_lines, progress_line, write_json, write_junit
from services.common.settings import DependencySettings
from services.topology import EDGES

from .command import Command, Context
from .runtime_options import add_runtime_options, choice_of

__all__ = ["COMMAND"]


class ExploreUnavailable(ChaosbedError):
    """The stack cannot be explored: not ready, or no control token to sign plans with."""

    exit_code = ExitCode.INFRASTRUCTURE_FAILED


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
        help="where to write explore.json and explore.xml (JUnit) "
        "(default .chaosbed/explore/<exploration>)",
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


def attempts_setting() -> dict[str, int]:
    """Each dependency's `attempts`, as the services read it from this environment."""
    called = {dependency for _, dependency in EDGES}
    return {
        name: DependencySettings.from_env(name, "http://127.0.0.1", os.environ).attempts
        for name in called
    }


def run(args: argparse.Namespace, context: Context) -> int:
    unknown = [j for j in args.journeys if j not in EXPLORED]
    if unknown:
        context.complain(f"JOURNEY: {', '.join(unknown)} is not one of {', '.join(EXPLORED)}")
        return ExitCode.INVALID_INPUT
    if args.concurrency < 1:
        context.complain(f"--concurrency: at least 1, got {args.concurrency}")
        return ExitCode.INVALID_INPUT
    contract = load_contract(args.contract)
    runtime = context.make_runtime(choice_of(args))
    token = runtime.control_token()
    if not token:
        raise ExploreUnavailable("the stack has no control token to sign fault plans with")
    not_ready = [s.name for s in runtime.status() if not s.ready]
    if not_ready:
        raise ExploreUnavailable(f"not ready: {', '.join(not_ready)}; `chaosbed up` starts it")
    urls = {spec.name: runtime.base_url(spec.name) for spec in runtime.services}

    def progress(execution: Execution) -> None:
        print(progress_line(execution), file=context.err, flush=True)

    started = time.monotonic()
    exploration, executions = asyncio.run(
        explore(
            urls,
            token,
            contract,
            args.journeys or EXPLORED,
            attempts_setting(),
            concurrency=args.concurrency,
            depth=args.depth,
            progress=progress,
        )
    )
    seconds = time.monotonic() - started
    out = args.out or args.state_dir / "explore" / exploration
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "explore.json", exploration, executions)
    write_junit(out / "explore.xml", exploration, executions)
    for line in matrix_lines(executions):
        context.say(line)
    violations = [e for e in executions if e.violations]
    for execution in violations:
        context.say(f"VIOLATION {execution.name} (request {execution.request_id}):")
        for violation in execution.violations:
            context.say(f"  - {violation}")
    context.say(
        f"{len(executions)} executions in {seconds:.1f}s, {len(violations)} violating the "
        f"contract; {out / 'explore.json'} (JUnit: explore.xml)"
    )
    if any(e.site is None and e.violations for e in executions):
        context.complain("a fault-free execution was not ok: the stack is not steady")
        return ExitCode.STEADY_STATE_NOT_MET
    return ExitCode.DEVIATED if violations else ExitCode.OK


COMMAND = Command(
    name="explore",
    help="every call site of each member journey, every fault, one request each",
    description="Learn each journey's dependency calls on every hop from one fault-free "
    "request, then send one request per (call site, fault) carrying a fault plan signed "
    "with the stack's control token (nothing else on the stack is touched), and check "
    "what the member got against the contract. Exits 0 when every execution met it, 1 "
    "when any did not, 3 when a journey's fault-free execution was not ok (the stack is not "
    "steady: its faults were not explored).",
    configure=configure,
    run=run,
)
