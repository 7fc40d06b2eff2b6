"""Errors of the runtimes (process and docker). Callers catch these, not library errors.

    RuntimeFailure                  the runtime could not do what was asked
    ├── InvalidStack                the stack description itself is wrong (exit 2)
    ├── UnknownRuntime              no runtime of that name (exit 2)
    ├── AlreadyRunning              `up` while the stack (supervisor or containers) runs
    ├── PortBusy                    a service's port is taken on 127.0.0.1
    ├── SupervisorFailed            the supervisor did not start, or died
    ├── ServiceNeverHealthy         a service did not become ready in time
    ├── ProcessesSurvived           `down` could not make every process exit
    └── DockerUnavailable           the Docker Engine cannot be reached

Every error carries `exit_code`, the CLI's exit status for it (DESIGN: 2
invalid input, 5 the infrastructure failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "AlreadyRunning",
    "DockerUnavailable",
    "InvalidStack",
    "PortBusy",
    "ProcessesSurvived",
    "RuntimeFailure",
    "ServiceNeverHealthy",
    "SupervisorFailed",
    "UnknownRuntime",
]

EXIT_INVALID_INPUT = 2
EXIT_INFRASTRUCTURE = 5


class RuntimeFailure(Exception):
    """Base class: the runtime could not do what was asked."""

    exit_code: int = EXIT_INFRASTRUCTURE


class InvalidStack(RuntimeFailure):
    """The stack description is inconsistent (duplicate names or ports, dependency order)."""

    exit_code = EXIT_INVALID_INPUT


class UnknownRuntime(RuntimeFailure):
    exit_code = EXIT_INVALID_INPUT

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        super().__init__(f"no runtime called {name!r}; choose one of: {', '.join(known)}")


class AlreadyRunning(RuntimeFailure):
    """`up` while a stack runs: the process runtime's supervisor (`pid`), or the
    docker runtime's compose project (`project`, with its running `containers`)."""

    def __init__(
        self,
        state_dir: Path,
        pid: int | None = None,
        *,
        project: str = "",
        containers: Sequence[str] = (),
    ) -> None:
        self.state_dir = state_dir
        self.pid = pid
        self.project = project
        self.containers = tuple(containers)
        if project:
            where = (
                f"as the docker compose project {project} "
                f"(running: {', '.join(self.containers) or 'its containers'})"
            )
            flag = " --runtime docker"
        else:
            where, flag = f"from {state_dir} (supervisor pid {pid})", ""
        super().__init__(
            f"a chaosbed stack is already running {where}; "
            f"use `chaosbed status{flag}` to see it or `chaosbed down{flag}` to stop it"
        )


class PortBusy(RuntimeFailure):
    def __init__(self, service: str, port: int) -> None:
        self.service = service
        self.port = port
        super().__init__(
            f"port {port} on 127.0.0.1, needed by {service}, is already in use; "
            "stop whatever listens there (another chaosbed stack? see `chaosbed status`, "
            "with --runtime docker for containers, and `chaosbed down`), "
            "then run `chaosbed up` again. Nothing was started."
        )


class SupervisorFailed(RuntimeFailure):
    def __init__(self, reason: str, log_tail: str = "") -> None:
        self.reason = reason
        self.log_tail = log_tail
        message = f"the chaosbed supervisor {reason}"
        if log_tail:
            message += f"; last lines of its log:\n{log_tail}"
        super().__init__(message)


class ServiceNeverHealthy(RuntimeFailure):
    def __init__(
        self,
        service: str,
        port: int,
        waited_s: float,
        why: str,
        log_tail: str,
        *,
        cleanup_failure: str = "",
    ) -> None:
        self.service = service
        self.port = port
        self.waited_s = waited_s
        self.why = why
        self.log_tail = log_tail
        self.cleanup_failure = cleanup_failure
        if cleanup_failure:
            cleaned = (
                "Stopping what was started failed as well (see the end of this message), "
                "so some of it may still be there: run `chaosbed down` (with the same "
                "--runtime) before the next `chaosbed up`."
            )
        else:
            cleaned = "Everything that was started has been stopped."
        message = f"{service} (port {port}) was not ready after {waited_s:.0f}s: {why}. {cleaned}"
        if log_tail:
            message += f"\nlast lines of the {service} log:\n{log_tail}"
        if cleanup_failure:
            message += f"\nstopping failed: {cleanup_failure}"
        super().__init__(message)

    def after_failed_cleanup(self, failure: BaseException) -> ServiceNeverHealthy:
        """The same failure, also saying that the cleanup after it failed, and why.

        Raise this rather than the cleanup's error: why `up` failed is what
        the caller needs first.
        """
        return ServiceNeverHealthy(
            self.service,
            self.port,
            self.waited_s,
            self.why,
            self.log_tail,
            cleanup_failure=str(failure) or type(failure).__name__,
        )


class ProcessesSurvived(RuntimeFailure):
    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = tuple(pids)
        listed = ", ".join(str(pid) for pid in self.pids)
        super().__init__(f"these processes did not exit even after SIGKILL: {listed}")


class DockerUnavailable(RuntimeFailure):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"the Docker Engine cannot be reached ({reason}); start dockerd, "
            "or use the process runtime: `chaosbed up --runtime process`"
        )
