"""Where the services run: the process runtime (no Docker) and the docker runtime.

The docker runtime lives in `chaos.runtime.docker` and is imported only when
asked for, so the process runtime works without the docker SDK's engine.
"""

from .base import Runtime
from .errors import (
    AlreadyRunning,
    DockerUnavailable,
    InvalidStack,
    PortBusy,
    ProcessesSurvived,
    RuntimeFailure,
    ServiceNeverHealthy,
    SupervisorFailed,
    UnknownRuntime,
)
from .paths import StatePaths
from .policy import RestartPolicy
from .process import ProcessRuntime
from .spec import STACK, ServiceSpec, ServiceStatus
from .state import ServiceRecord, SupervisorState

__all__ = [
    "STACK",
    "AlreadyRunning",
    "DockerUnavailable",
    "InvalidStack",
    "PortBusy",
    "ProcessRuntime",
    "ProcessesSurvived",
    "RestartPolicy",
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
]
