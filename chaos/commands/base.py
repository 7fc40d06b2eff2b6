"""What a CLI subcommand is, the context it runs in, and the exit codes of DESIGN."""

from __future__ import annotations

import argparse
import enum
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from chaos.runtime.base import Runtime

__all__ = ["Command", "Context", "ExitCode", "RuntimeFactory"]


class ExitCode(enum.IntEnum):
    OK = 0
    DEVIATED = 1
    INVALID_INPUT = 2
    STEADY_STATE_NOT_MET = 3
    ABORTED = 4
    INFRASTRUCTURE = 5


#: Builds a runtime from its name ("process" or "docker"), the state dir and
#: an optional readiness timeout. The CLI's seam: tests pass their own.
RuntimeFactory = Callable[[str, Path, float | None], Runtime]


@dataclass
class Context:
    """What a command may use besides its arguments: where to write, how to get a runtime."""

    make_runtime: RuntimeFactory
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def say(self, message: str) -> None:
        print(message, file=self.out)

    def complain(self, message: str) -> None:
        print(f"chaosbed: {message}", file=self.err)


@dataclass(frozen=True)
class Command:
    """One subcommand: `configure` adds its arguments, `run` does it and returns the exit code."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Context], int]
    description: str = ""
