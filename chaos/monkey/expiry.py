"""A pause that outlives its monkey ends anyway.

Application faults and network rules carry a TTL of their own; a paused
process (SIGSTOP, `docker pause`) does not. For every pause it injects, the
monkey starts this module as a detached process (its own session, so a
SIGKILL of the monkey or its process group leaves it running):

    python -m chaos.monkey.expiry --runtime R --state-dir D --after S --armed-at T INSTANCE...

It sleeps until S seconds after T (when it was armed, so a slow start on a busy
machine does not lengthen the pause), then resumes each INSTANCE that is still
paused, and exits. When the monkey rolls the pause back itself it kills this process
first, so a later pause of the same instance is never ended early.

On the docker runtime the monkey asks the engine instead (a helper container
that unpauses them: chaos/runtime/docker/netns.py `arm_unpause`), which
outlives a monkey that runs in a container of its own, as compose's does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaos.runtime.interface import Runtime

__all__ = ["Expiry", "arm", "main"]


class Expiry:
    """A detached process that ends a pause after its TTL; `disarm` kills it."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    @property
    def pid(self) -> int:
        return self.process.pid

    async def disarm(self) -> None:
        if self.process.poll() is None:
            try:
                os.kill(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        await asyncio.to_thread(self.process.wait, 10)


def arm(runtime: str, state_dir: Path, port_base: int | None, instances: Sequence[str],
        after_s: float) -> Expiry:  # fmt: skip
    argv = [sys.executable, "-m", "chaos.monkey.expiry", "--runtime", runtime,
            "--state-dir", str(state_dir), "--after", f"{after_s:.3f}",
            "--armed-at", f"{time.time():.3f}"]  # fmt: skip
    if port_base is not None:
        argv += ["--port-base", str(port_base)]
    process = subprocess.Popen(
        [*argv, *instances],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return Expiry(process)


async def _resume(args: argparse.Namespace, runtime: Runtime) -> int:
    failed = 0
    for instance in args.instances:
        try:
            await runtime.unpause(instance)
        except Exception as error:  # noqa: BLE001 - one instance's failure, said, the rest go on
            print(f"expiry: {instance}: {error}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.monkey.expiry")
    parser.add_argument("--runtime", required=True, choices=("process", "docker"))
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--port-base", type=int)
    parser.add_argument("--after", type=float, required=True)
    # when the monkey armed it (epoch seconds): the wait counts from then, not from
    # this process's start, which a busy machine delays
    parser.add_argument("--armed-at", type=float)
    parser.add_argument("instances", nargs="+")
    args = parser.parse_args(argv)
    since_armed = 0.0 if args.armed_at is None else max(0.0, time.time() - args.armed_at)
    deadline = time.monotonic() + args.after - since_armed
    # the runtime (and the imports it takes: seconds on a busy machine) before the wait,
    # so that at the deadline only the resume is left: a run with three stacks on two
    # cores read a pause still on 29 s after it began, its TTL 18 s
    from chaos.cli.command import RuntimeChoice
    from chaos.cli.runtime_options import make_runtime

    runtime = make_runtime(
        RuntimeChoice(args.runtime, args.state_dir, None, False, port_base=args.port_base)
    )
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 1.0))
    return asyncio.run(_resume(args, runtime))


if __name__ == "__main__":
    sys.exit(main())
