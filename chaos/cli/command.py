"""What a CLI subcommand is, the context it runs in, and how it gets a runtime."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from chaos.runtime.interface import Runtime

__all__ = ["Command", "Context", "RuntimeChoice", "RuntimeFactory"]


@dataclass(frozen=True)
class RuntimeChoice:
    """The runtime a command asked for: --runtime, --state-dir, --timeout, --build,
    --port-base, and `up`'s --kubeconfig and --context."""

    name: str
    state_dir: Path
    ready_timeout_s: float | None = None
    build: bool = False
    environ: tuple[tuple[str, str], ...] = ()
    """Set in the services' environment on top of ours (`mutate`: CHAOSBED_MUTANT)."""
    port_base: int | None = None
    """The stack's port base, when asked for (else: the layout in `state_dir`)."""
    kubeconfig: Path | None = None
    """`up --kubeconfig`: the cluster runtime attaches to the cluster it reaches."""
    context: str | None = None
    """`up --context`: that kubeconfig's context (else its current one)."""


#: Builds the chosen runtime. The CLI's seam: tests pass their own.
RuntimeFactory = Callable[[RuntimeChoice], Runtime]


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
