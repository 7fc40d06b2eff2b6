"""The options every stack command shares (--runtime, --state-dir, --port-base) and the
default factory."""

from __future__ import annotations

import argparse
import functools
import os
from pathlib import Path

from chaos.experiment.loader import RUNTIMES
from chaos.experiment.model import ORCHESTRATOR_FAULTS, PROCESS_FAULTS
from chaos.experiment.runnable import Capabilities, has_netem
from chaos.faults.network import DRIVEN
from chaos.runtime.cluster.kinds import CLUSTER_PAUSE_MAX_S, CLUSTER_PROCESS_KINDS
from chaos.runtime.errors import UnknownRuntime
from chaos.runtime.interface import Runtime
from chaos.runtime.layout import (
    PORT_BASE_VARIABLE,
    StackPorts,
    parse_port_base,
    ports_for,
    recorded_runtime,
    state_dir_for,
)

from .command import RuntimeChoice

#: What the process and docker runtimes do to an instance: all but what needs an
#: orchestrator.
MACHINE_PROCESS_KINDS = tuple(k for k in PROCESS_FAULTS if k not in ORCHESTRATOR_FAULTS)

__all__ = [
    "RUNTIMES",
    "add_runtime_options",
    "capabilities_of",
    "choice_of",
    "environment_port_base",
    "make_runtime",
    "port_base",
]


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=None,
        help="where the services run: local processes, the Docker compose project, or the "
        "one-machine Kubernetes cluster "
        "(default: the runtime that started the stack in the state directory, else "
        "process) [env CHAOSBED_RUNTIME]",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where pids, logs, data, the control token and the stack's ports are kept "
        "(default .chaosbed; .chaosbed/stacks/<N> with a port base) [env CHAOSBED_STATE_DIR]",
    )
    parser.add_argument(
        "--port-base",
        type=port_base,
        default=None,
        metavar="N",
        help="the stack whose ports are N..N+9 (services, Prometheus, load generator, Grafana; "
        "compose project chaosbed-N); other commands find it from --state-dir too "
        f"(default: the usual ports 8081-8086, 9090, 9095) [env {PORT_BASE_VARIABLE}]",
    )


def port_base(text: str) -> int:
    try:
        return parse_port_base(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def environment_port_base() -> int | None:
    """CHAOSBED_PORT_BASE, when set (InvalidStack, naming it, when it is not a port base)."""
    return StackPorts.from_environment().base


def resolve_stack_options(args: argparse.Namespace, *, creating: bool = False) -> None:
    """Fill in --state-dir (from CHAOSBED_STATE_DIR, or the port base's default) and
    --runtime (CHAOSBED_RUNTIME, else the runtime recorded in the state directory by the
    `up` that started its stack, else process).

    `creating` (up): the port base is --port-base or CHAOSBED_PORT_BASE, whatever
    an earlier stack in the state directory used; otherwise a stack is found by
    --port-base, then by the layout in its state directory.
    """
    if not hasattr(args, "port_base"):
        return
    environment = environment_port_base()
    if creating and args.port_base is None:
        args.port_base = environment
    if args.state_dir is None:
        configured = os.environ.get("CHAOSBED_STATE_DIR", "").strip()
        given = Path(configured) if configured else None
        args.state_dir = state_dir_for(given, args.port_base or environment)
    if getattr(args, "runtime", "") is None:
        configured = os.environ.get("CHAOSBED_RUNTIME", "").strip()
        if configured and configured not in RUNTIMES:
            raise UnknownRuntime(configured, RUNTIMES)
        args.runtime = configured or recorded_runtime(args.state_dir) or "process"


def choice_of(args: argparse.Namespace) -> RuntimeChoice:
    return RuntimeChoice(
        args.runtime,
        args.state_dir,
        getattr(args, "timeout", None),
        getattr(args, "build", False),
        port_base=getattr(args, "port_base", None),
        kubeconfig=getattr(args, "kubeconfig", None),
        context=getattr(args, "context", None),
    )


def capabilities_of(name: str, state_dir: Path | None = None) -> Capabilities:
    """What the runtime `name` (one make_runtime builds) offers faults on this
    machine: the docker runtime has a network layer (its `network`, the containers'
    namespaces) on which chaos.faults.network drives its kinds; the process runtime
    has none, so its network faults run as stand-ins or not at all; the cluster
    runtime has one too (the pods' namespaces), does kill, pause and delete on pods,
    and no application-layer faults (see chaos.runtime.cluster.runtime). Only the
    cluster has an orchestrator to replace a deleted instance."""
    kinds = frozenset(DRIVEN) if name in ("docker", "cluster") else frozenset()
    if name == "cluster":  # pods: kill, pause (containers), delete; no app-layer faults
        from chaos.runtime.cluster.attached import Attachment
        from chaos.runtime.cluster.runtime import NODE_STOP_ATTACHED

        attached = state_dir is not None and Attachment.read(state_dir / "cluster") is not None
        return Capabilities(
            node_refused=(("node_stop", NODE_STOP_ATTACHED),) if attached else (),
            netem=_netem(),
            network_kinds=kinds,
            process_kinds=frozenset(CLUSTER_PROCESS_KINDS),
            app_faults=False,
            node_faults=True,
            pause_max_s=CLUSTER_PAUSE_MAX_S,
        )
    return Capabilities(
        netem=_netem(), network_kinds=kinds, process_kinds=frozenset(MACHINE_PROCESS_KINDS)
    )


@functools.cache
def _netem() -> bool:
    return has_netem()  # a modprobe dry run: once a process


def make_runtime(choice: RuntimeChoice) -> Runtime:
    """The real runtimes; the docker one is imported only when asked for."""
    if choice.name not in RUNTIMES:  # argparse checks --runtime, not CHAOSBED_RUNTIME
        raise UnknownRuntime(choice.name, RUNTIMES)
    ports = ports_for(choice.state_dir, choice.port_base)
    # choice.environ reaches the services (process: their environment; docker: the
    # compose file's, which passes CHAOSBED_MUTANT on)
    environ = {**os.environ, **dict(choice.environ)} if choice.environ else None
    if choice.name == "cluster":
        from chaos.runtime.cluster.runtime import ClusterRuntime

        return ClusterRuntime(
            choice.state_dir,
            ports=ports,
            ready_timeout_s=choice.ready_timeout_s,
            build=choice.build,
            environ=environ,
            kubeconfig=choice.kubeconfig,
            context=choice.context,
        )
    if choice.name == "docker":
        from chaos.runtime.docker import DockerRuntime

        return DockerRuntime(
            choice.state_dir,
            ports=ports,
            ready_timeout_s=choice.ready_timeout_s,
            build=choice.build,
            environ=environ,
        )
    from chaos.runtime.process import ProcessRuntime

    return ProcessRuntime(
        choice.state_dir, ports=ports, ready_timeout_s=choice.ready_timeout_s, environ=environ
    )
