"""`chaosbed load`: member traffic alone, open loop (see chaos/load/README.md).

Aimed at the stack in --state-dir (or on --port-base): each service's URL and
the metrics port default to that stack's layout; --<service>-url and
--metrics-port still say otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from chaos.load import cli as load_cli
from chaos.runtime.layout import ports_for, state_dir_for

from .command import Command, Context
from .runtime_options import port_base

__all__ = ["COMMAND"]


def configure(parser: argparse.ArgumentParser) -> None:
    load_cli.configure(parser)
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the stack to drive: its ports are read from here (default .chaosbed)",
    )
    parser.add_argument(
        "--port-base", type=port_base, default=None, metavar="N", help="the stack on ports N..N+9"
    )


def run(args: argparse.Namespace, context: Context) -> int:
    ports = ports_for(state_dir_for(args.state_dir, args.port_base), args.port_base)
    for service in ("catalog", "recommendations", "playback", "profiles"):
        option = f"{service}_url"
        if getattr(args, option) is None:
            setattr(args, option, f"http://127.0.0.1:{ports.services[service]}")
    if args.metrics_port is None:
        args.metrics_port = ports.load
    return load_cli.run(args, out=context.out, err=context.err)


COMMAND = Command(
    name="load",
    help="drive open-loop member traffic at the stack and summarise what members saw",
    description="Poisson arrivals at --rate per second for --duration seconds over the "
    "journeys (homepage, play, title, preferences), latency measured from each request's "
    "scheduled time; client-side metrics served for Prometheus on --metrics-port.",
    configure=configure,
    run=run,
)
