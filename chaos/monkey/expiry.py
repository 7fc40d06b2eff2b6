"""A pause that outlives its monkey ends anyway.

Application faults and network rules carry a TTL of their own; a paused
process (SIGSTOP, `docker pause`) does not. For every pause it injects, the
monkey starts this module as a detached process (its own session, so a
SIGKILL of the monkey or its process group leaves it running):

    python -m chaos.monkey.expiry --runtime R --state-dir D --after S INSTANCE...

It sleeps S seconds, then resumes each INSTANCE that is still paused, and
exits. When the monkey rolls the pause back itself it kills this process
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
            "--state-dir", str(state_dir), "--after", f"{after_s:.3f}"]  # fmt: skip
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


async def _resume(args: argparse.Namespace) -> int:
    from chaos.cli.command import RuntimeChoice
    from chaos.cli.runtime_options import make_runtime

    runtime = make_runtime(
        RuntimeChoice(args.runtime, args.state_dir, None, False, port_base=args.port_base)
    )
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
    parser.add_argument("instances", nargs="+")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.after
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 1.0))
    return asyncio.run(_resume(args))


if __name__ == "__main__":
    sys.exit(main())
