"""The stack a Chaos Toolkit activity acts on, found from CTK's configuration the way
chaosbed's commands find it from their options."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from chaos.cli.runtime_options import choice_of, make_runtime, resolve_stack_options
from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode
from chaos.faults.control_client import ControlClient
from chaos.runtime.interface import Runtime
from chaos.runtime.layout import parse_port_base

__all__ = [
    "CONFIGURATION_KEYS",
    "ActivityError",
    "Stack",
    "control_of",
    "run",
    "runtime_of",
    "stack_of",
]

#: The CTK configuration keys an activity reads (each optional): where the stack is.
CONFIGURATION_KEYS = ("chaosbed_state_dir", "chaosbed_port_base", "chaosbed_runtime")

T = TypeVar("T")


class ActivityError(ChaosbedError):
    """A chaosbed activity could not do what it was asked (CTK marks it failed)."""

    exit_code = ExitCode.INVALID_INPUT


@dataclass(frozen=True)
class Stack:
    """A running stack's runtime and its state directory (where activities keep what
    they injected)."""

    runtime: Runtime
    state_dir: Path
    runtime_name: str = "process"


def runtime_of(configuration: Mapping[str, Any] | None) -> Runtime:
    return stack_of(configuration).runtime


def stack_of(configuration: Mapping[str, Any] | None) -> Stack:
    """The runtime of the stack `configuration` names: `chaosbed_state_dir` and/or
    `chaosbed_port_base`, `chaosbed_runtime`; what is not given comes from the
    environment (CHAOSBED_STATE_DIR, CHAOSBED_PORT_BASE, CHAOSBED_RUNTIME) or the
    state directory, as for `chaosbed run`."""
    given = dict(configuration or {})
    unknown = sorted(k for k in given if k.startswith("chaosbed_") and k not in CONFIGURATION_KEYS)
    if unknown:
        raise ActivityError(
            f"configuration {unknown[0]}: not a chaosbed key; "
            f"known: {', '.join(CONFIGURATION_KEYS)}"
        )
    state_dir = given.get("chaosbed_state_dir")
    base = given.get("chaosbed_port_base")
    runtime = given.get("chaosbed_runtime")
    try:
        port_base = None if base in (None, "") else parse_port_base(str(base))
    except ValueError as error:
        raise ActivityError(f"configuration chaosbed_port_base: {error}") from None
    args = argparse.Namespace(
        runtime=str(runtime) if runtime else None,
        state_dir=Path(str(state_dir)) if state_dir else None,
        port_base=port_base,
    )
    resolve_stack_options(args)
    return Stack(make_runtime(choice_of(args)), args.state_dir, str(args.runtime))


def control_of(runtime: Runtime, session: aiohttp.ClientSession) -> ControlClient:
    """A client of every service's fault control API with the stack's token."""
    token = runtime.control_token()
    if token is None:
        raise ActivityError("the stack runs with its fault control API off (no token)")
    urls = {spec.name: runtime.base_url(spec.name) for spec in runtime.services}
    return ControlClient(urls, token, session)


def run(work: Awaitable[T]) -> T:
    """An activity's async work, run to its end in a loop of its own (CTK calls
    activities as plain functions, in its main thread or a background thread)."""

    async def main() -> T:
        return await work

    return asyncio.run(main())
