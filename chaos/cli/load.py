"""`chaosbed load`: member traffic alone, open loop (see chaos/load/README.md)."""

from __future__ import annotations

import argparse

from chaos.load import cli as load_cli

from .command import Command, Context

__all__ = ["COMMAND"]


def run(args: argparse.Namespace, context: Context) -> int:
    return load_cli.run(args, out=context.out, err=context.err)


COMMAND = Command(
    name="load",
    help="drive open-loop member traffic at the stack and summarise what members saw",
    description="Poisson arrivals at --rate per second for --duration seconds over the "
    "journeys (homepage, play, title, preferences), latency measured from each request's "
    "scheduled time; client-side metrics served for Prometheus on --metrics-port.",
    configure=load_cli.configure,
    run=run,
)
