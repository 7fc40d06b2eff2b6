"""`chaosbed load`: drive open-loop member traffic at the services, alone.

Prints a live progress line (one line rewritten on a terminal, a plain line
every few seconds otherwise) and a per-journey summary at the end; serves
the client-side metrics on /metrics meanwhile. Ctrl-C ends the run early and
still prints the summary. Exit status: 0 done, 2 invalid input, 5 the metrics
port could not be served, 128 + the signal's number when a signal ended it
(130 Ctrl-C, 143 SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TextIO

from chaos.exitcodes import ExitCode, interrupted_by
from chaos.experiment.model import LoadSpec
from chaos.load.config import DEFAULT_CATALOG_SIZE, LoadConfig, Targets
from chaos.load.errors import InvalidLoad, MetricsServerError
from chaos.load.generator import LoadGenerator
from chaos.load.metrics import LoadMetrics
from chaos.load.metrics_server import DEFAULT_METRICS_HOST, DEFAULT_METRICS_PORT, serve_metrics
from chaos.load.parsing import DEFAULT_MIX, parse_duration, parse_mix
from chaos.load.results import LoadResults
from chaos.load.summary import progress_line, summary_table

__all__ = ["configure", "run"]

PLAIN_PROGRESS_EVERY_S = 5.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rate", type=float, default=50.0, help="arrivals per second, up to 1000 (default 50)"
    )
    parser.add_argument(
        "--duration", default="60s", help="how long: 90, 90s, 5m, 1h (default 60s, at most 6h)"
    )
    parser.add_argument(
        "--mix", default=DEFAULT_MIX, help=f"journey weights (default {DEFAULT_MIX})"
    )
    parser.add_argument(
        "--experiment-percent",
        type=float,
        default=100.0,
        help="share of members in the experiment cohort, 0-100 (default 100)",
    )
    parser.add_argument(
        "--members", type=int, default=1000, help="member ids m-0 .. m-N-1 (default 1000)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=2.0,
        help="client timeout in seconds, from the scheduled send (default 2)",
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=512,
        help="requests awaiting answers at most (default 512)",
    )
    parser.add_argument(
        "--catalog-size",
        type=int,
        default=DEFAULT_CATALOG_SIZE,
        help=f"titles are drawn from 1..N (default {DEFAULT_CATALOG_SIZE})",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the schedule and journeys (default: random)"
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="port of the client-side /metrics (default: where the stack's Prometheus "
        f"looks, {DEFAULT_METRICS_PORT} on the usual ports; 0 any free port)",
    )
    parser.add_argument(
        "--metrics-bind",
        default=DEFAULT_METRICS_HOST,
        help="address of /metrics (default 127.0.0.1; 0.0.0.0 for Prometheus in a container)",
    )
    parser.add_argument("--no-metrics", action="store_true", help="do not serve /metrics")
    parser.add_argument(
        "--results", type=Path, default=None, help="write the run's results (JSON) to this file"
    )
    defaults = Targets()
    for service in ("catalog", "recommendations", "playback", "profiles"):
        parser.add_argument(
            f"--{service}-url",
            default=None,
            help=f"base URL of {service} (default: the stack's, {defaults.url(service)} "
            "on the usual ports)",
        )


def build_config(args: argparse.Namespace) -> LoadConfig:
    """The run the arguments ask for; InvalidLoad names the bad option's field."""
    spec = LoadSpec(
        rate=args.rate,
        mix=parse_mix(args.mix),
        experiment_percent=args.experiment_percent,
        members=args.members,
        timeout=args.timeout,
        seed=args.seed,
    )
    if args.metrics_port is None:
        args.metrics_port = DEFAULT_METRICS_PORT
    if not args.no_metrics and not 0 <= args.metrics_port <= 65535:
        raise InvalidLoad(
            "metrics_port", f"must be a port from 0 to 65535, not {args.metrics_port}"
        )
    return LoadConfig(
        spec=spec,
        duration=parse_duration(args.duration),
        targets=Targets(
            **{
                service: getattr(args, f"{service}_url") or Targets().url(service)
                for service in ("catalog", "recommendations", "playback", "profiles")
            }
        ),
        catalog_size=args.catalog_size,
        max_in_flight=args.max_in_flight,
    )


def run(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    return asyncio.run(run_async(args, out=out, err=err))


async def run_async(args: argparse.Namespace, *, out: TextIO, err: TextIO) -> int:
    try:
        config = build_config(args)
    except InvalidLoad as invalid:
        print(f"chaosbed load: --{invalid.field.replace('_', '-')}: {invalid.message}", file=err)
        return ExitCode.INVALID_INPUT
    metrics = LoadMetrics()
    generator = LoadGenerator(config, metrics=metrics)
    try:
        async with _metrics_endpoint(args, metrics) as url:
            if url:
                print(f"client metrics on {url}", file=out)
            print(
                f"load: {config.spec.rate:g}/s for {config.duration:g}s, mix {args.mix}, "
                f"{config.spec.experiment_percent:g}% experiment cohort",
                file=out,
            )
            with _stop_on_signals(generator) as interrupted:
                results = await _with_progress(generator, out)
    except MetricsServerError as failure:
        print(f"chaosbed load: {failure}", file=err)
        return ExitCode.INFRASTRUCTURE_FAILED
    print(summary_table(results), file=out)
    if args.results is not None:
        args.results.write_text(json.dumps(results.to_json(), indent=2) + "\n")
        print(f"results written to {args.results}", file=out)
    return interrupted_by(interrupted[0]) if interrupted else ExitCode.OK


@contextlib.asynccontextmanager
async def _metrics_endpoint(
    args: argparse.Namespace, metrics: LoadMetrics
) -> AsyncIterator[str | None]:
    if args.no_metrics:
        yield None
        return
    async with serve_metrics(metrics.registry, args.metrics_bind, args.metrics_port) as url:
        yield url


@contextlib.contextmanager
def _stop_on_signals(generator: LoadGenerator) -> Iterator[list[int]]:
    """While the block runs, SIGINT/SIGTERM end the run gracefully; yields the signals seen."""
    loop = asyncio.get_running_loop()
    seen: list[int] = []
    installed: list[signal.Signals] = []

    def stop(signum: signal.Signals) -> None:
        seen.append(signum)
        generator.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            loop.add_signal_handler(signum, stop, signum)  # only in the main thread
            installed.append(signum)
    try:
        yield seen
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def _with_progress(generator: LoadGenerator, out: TextIO) -> LoadResults:
    tty = out.isatty()
    every = 1.0 if tty else PLAIN_PROGRESS_EVERY_S
    task = asyncio.create_task(generator.run())
    duration = generator.config.duration
    try:
        while True:
            done, _ = await asyncio.wait((task,), timeout=every)
            if done:
                break
            line = progress_line(generator.progress(), duration)
            print(f"\r{line}\x1b[K" if tty else line, end="" if tty else "\n", file=out, flush=True)
    finally:
        if not task.done():
            generator.stop()
        results = await task
        if tty:
            print(file=out)
    return results
