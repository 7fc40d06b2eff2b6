"""The options every stack command shares (--runtime, --state-dir) and the default factory."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from chaos.runtime.base import Runtime
from chaos.runtime.errors import UnknownRuntime

__all__ = ["RUNTIMES", "add_runtime_options", "make_runtime"]

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


def make_runtime(name: str, state_dir: Path, ready_timeout_s: float | None) -> Runtime:
    """The real runtimes; the docker one is imported only when asked for."""
    if name not in RUNTIMES:  # argparse checks --runtime, not CHAOSBED_RUNTIME
        raise UnknownRuntime(name, RUNTIMES)
    if name == "docker":
        from chaos.runtime.docker import DockerRuntime

        if ready_timeout_s is None:
            return DockerRuntime(state_dir)
        return DockerRuntime(state_dir, ready_timeout_s=ready_timeout_s)
    from chaos.runtime.process import ProcessRuntime

    if ready_timeout_s is None:
        return ProcessRuntime(state_dir)
    return ProcessRuntime(state_dir, ready_timeout_s=ready_timeout_s)
