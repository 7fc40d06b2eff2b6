"""The options every stack command shares (--runtime, --state-dir) and the default factory."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from chaos.runtime.errors import UnknownRuntime
from chaos.runtime.interface import Runtime

from .command import RuntimeChoice

__all__ = ["RUNTIMES", "add_runtime_options", "choice_of", "make_runtime"]

RUNTIMES = ("process", "docker")


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=os.environ.get("CHAOSBED_RUNTIME", "process"),
        help="where the services run: local processes (default) or the Docker compose "
        "project [env CHAOSBED_RUNTIME]",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("CHAOSBED_STATE_DIR", ".chaosbed")),
        help="where pids, logs, data and the control token are kept "
        "(default .chaosbed) [env CHAOSBED_STATE_DIR]",
    )


def choice_of(args: argparse.Namespace) -> RuntimeChoice:
    return RuntimeChoice(
        args.runtime,
        args.state_dir,
        getattr(args, "timeout", None),
        getattr(args, "build", False),
    )


def make_runtime(choice: RuntimeChoice) -> Runtime:
    """The real runtimes; the docker one is imported only when asked for."""
    if choice.name not in RUNTIMES:  # argparse checks --runtime, not CHAOSBED_RUNTIME
        raise UnknownRuntime(choice.name, RUNTIMES)
    if choice.name == "docker":
        from chaos.runtime.docker import DockerRuntime

        return DockerRuntime(
            choice.state_dir, ready_timeout_s=choice.ready_timeout_s, build=choice.build
        )
    from chaos.runtime.process import ProcessRuntime

    # choice.environ reaches the process runtime's services only (mutate refuses docker)
    environ = {**os.environ, **dict(choice.environ)} if choice.environ else None
    return ProcessRuntime(choice.state_dir, ready_timeout_s=choice.ready_timeout_s, environ=environ)
