"""Where the services run: the process runtime (no Docker) and the docker runtime.

    interface.py       Runtime: what every runtime offers; ServiceStatus, InstanceState
    network.py         NetworkLayer, Namespace: what a runtime with network namespaces offers
    node_layer.py      NodeLayer, NodeState: what a runtime with nodes (a cluster) offers
    base.py            RuntimeBase: what both runtimes do the same way, written once
    errors.py          every error a runtime raises, drawn as one tree
    stack.py           ServiceSpec and STACK: the services, their ports, their start order
    layout.py          StackPorts: one stack's ports and name (a port base moves them all)
    state_dir.py       the state directory (.chaosbed/): token, logs, data, hold files
    control_token.py   the control-API token, generated or from CHAOSBED_CONTROL_TOKEN
    health.py          /healthz and /readyz probes
    interrupts.py      Ctrl-C and SIGTERM deferred while a launch or a cleanup runs
    prometheus/        Prometheus beside a stack: its config, the server as a child process
    process/           the process runtime (a supervisor and its services)
    docker/            the docker runtime (the compose project, through the docker SDK)
    cluster/           the cluster runtime (a three-node Kubernetes on this machine)
    image_build.py     the offline image build, for the docker and cluster runtimes
    session.py         subprocesses in a session of their own, never left behind

The docker runtime is imported only when asked for (`chaos.runtime.docker`),
so the process runtime works without touching the docker SDK.
"""

from .errors import (
    AlreadyRunning,
    ComposeFailed,
    DockerUnavailable,
    ImageBuildFailed,
    ImagesMissing,
    InstanceActionFailed,
    InvalidStack,
    NotRunning,
    PortBusy,
    ProcessesSurvived,
    RuntimeFailure,
    ServiceNeverHealthy,
    SupervisorFailed,
    UnknownRuntime,
    UnknownService,
)
from .interface import InstanceState, RunState, Runtime, ServiceStatus
from .layout import StackPorts
from .process import ProcessRuntime, RestartPolicy, ServiceRecord, SupervisorState
from .stack import STACK, ServiceSpec
from .state_dir import StatePaths

__all__ = [
    "STACK",
    "StackPorts",
    "AlreadyRunning",
    "ComposeFailed",
    "DockerUnavailable",
    "ImageBuildFailed",
    "ImagesMissing",
    "InstanceActionFailed",
    "InstanceState",
    "InvalidStack",
    "NotRunning",
    "PortBusy",
    "ProcessRuntime",
    "ProcessesSurvived",
    "RestartPolicy",
    "RunState",
    "Runtime",
    "RuntimeFailure",
    "ServiceNeverHealthy",
    "ServiceRecord",
    "ServiceSpec",
    "ServiceStatus",
    "StatePaths",
    "SupervisorFailed",
    "SupervisorState",
    "UnknownRuntime",
    "UnknownService",
]
