"""`chaosbed up`: start the stack and return once every service is ready."""

from __future__ import annotations

import argparse
from pathlib import Path

from chaos.exitcodes import ExitCode

from .command import Command, Context
from .runtime_options import add_runtime_options, choice_of
from .status_table import render_status

__all__ = ["COMMAND", "NO_PROMETHEUS"]

#: What `up` says when no Prometheus runs with the stack it started.
NO_PROMETHEUS = (
    "no Prometheus runs with this stack, so the prometheus SLI backend is unavailable: "
    "SLIs are read with the scrape backend only. The process runtime runs Prometheus "
    "beside the services when the `prometheus` binary is installed "
    "(Debian: apt-get install prometheus)."
)


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="how long every service has to become ready (process: 30, docker and cluster: 180)",
    )
    parser.add_argument(
        "--build",
        action="store_true",
        help="docker and cluster runtimes: build missing images first with "
        "compose/build-images.sh (--cluster for the cluster's node image too; offline; as "
        "root; minutes the first time)",
    )
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        metavar="FILE",
        help="cluster runtime: put the stack on the Kubernetes cluster this kubeconfig "
        "reaches (a cluster you already have) instead of building the one-machine cluster; "
        "the commands after `up` find it from --state-dir",
    )
    parser.add_argument(
        "--context",
        metavar="NAME",
        help="with --kubeconfig: the context to use (default: its current context)",
    )


def run(args: argparse.Namespace, context: Context) -> int:
    if args.build and args.runtime not in ("docker", "cluster"):
        context.complain(
            "--build applies to the docker and cluster runtimes only (--runtime docker|cluster)"
        )
        return ExitCode.INVALID_INPUT
    if (args.kubeconfig or args.context) and args.runtime != "cluster":
        context.complain("--kubeconfig and --context apply to --runtime cluster only")
        return ExitCode.INVALID_INPUT
    if args.context and not args.kubeconfig:
        context.complain("--context names a context of --kubeconfig: give both")
        return ExitCode.INVALID_INPUT
    if args.kubeconfig and args.build:
        context.complain(
            "--build builds the one-machine cluster's images; a cluster attached to with "
            "--kubeconfig gets them from its nodes or registry (docs/cluster.md)"
        )
        return ExitCode.INVALID_INPUT
    runtime = context.make_runtime(choice_of(args))
    statuses = runtime.up()
    context.say(f"the stack is up ({args.runtime} runtime, state in {args.state_dir})")
    context.say(render_status(statuses))
    if runtime.prometheus_url() is None:
        context.say(NO_PROMETHEUS)
    return ExitCode.OK


COMMAND = Command(
    name="up",
    help="start the services and return once every one is ready",
    description="Start the stack in the background (like `docker compose up -d`) and return "
    "once every service answers 200 on /readyz. A second `up`, a busy port or a service that "
    "never becomes ready is refused with exit status 5, and leaves nothing running; so does "
    "an interrupted `up` (Ctrl-C, SIGTERM).",
    configure=configure,
    run=run,
)
