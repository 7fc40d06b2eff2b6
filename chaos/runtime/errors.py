"""Errors of the runtimes (process and docker). Callers catch these, not library errors.

    RuntimeFailure                  the runtime could not do what was asked (exit 5)
    ├── InvalidStack                the stack description itself is wrong (exit 2)
    ├── UnknownRuntime              no runtime of that name (exit 2)
    ├── UnknownService              no service or instance of that name (exit 2)
    ├── AlreadyRunning              `up` while the stack (supervisor or containers) runs
    ├── NotRunning                  a fault on an instance while the stack is down
    ├── InstanceActionFailed        a fault on an instance could not be applied (not running,
    │                               or it did not stop in time)
    ├── PortBusy                    a service's port is taken on 127.0.0.1
    ├── SupervisorFailed            the supervisor did not start, or died
    ├── ServiceNeverHealthy         a service did not become ready in time
    ├── ProcessesSurvived           `down` (or `stop`) could not make every process exit
    ├── DockerUnavailable           the Docker Engine cannot be reached
    ├── ImagesMissing               the compose stack's images are not built
    ├── ImageBuildFailed            compose/build-images.sh failed
    ├── ComposeFailed               `docker compose` exited with an error
    └── PrometheusStartError        the prometheus binary is missing, exited, or never
                                    became ready (the process runtime's Prometheus)

RuntimeFailure is a chaos.errors.ChaosbedError: every error carries `exit_code`,
the CLI's exit status for it (see chaos.exitcodes: 2 invalid input, 5 the
infrastructure failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

__all__ = [
    "BUILD_HINT",
    "AlreadyRunning",
    "ComposeFailed",
    "DockerUnavailable",
    "ImageBuildFailed",
    "ImagesMissing",
    "InstanceActionFailed",
    "InvalidStack",
    "NotRunning",
    "PortBusy",
    "PrometheusStartError",
    "ProcessesSurvived",
    "RuntimeFailure",
    "ServiceNeverHealthy",
    "SupervisorFailed",
    "UnknownRuntime",
    "UnknownService",
]

#: How to get the compose stack's images, for messages.
BUILD_HINT = (
    "`chaosbed up --runtime docker --build` (runs compose/build-images.sh: offline, as root), "
    "or `docker compose -f compose/docker-compose.yml build` where a registry is reachable"
)


class RuntimeFailure(ChaosbedError):
    """Base class: the runtime could not do what was asked."""

    exit_code = ExitCode.INFRASTRUCTURE_FAILED


class InvalidStack(RuntimeFailure):
    """The stack description is inconsistent (duplicate names or ports, dependency order)."""

    exit_code = ExitCode.INVALID_INPUT


class UnknownRuntime(RuntimeFailure):
    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        super().__init__(f"no runtime called {name!r}; choose one of: {', '.join(known)}")


class UnknownService(RuntimeFailure):
    """No service (or instance) of that name in the stack."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, name: str, known: Sequence[str], *, what: str = "service") -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(
            f"no {what} called {name!r}; the stack has: {', '.join(self.known) or 'none running'}"
        )


class NotRunning(RuntimeFailure):
    """A fault on an instance, while the stack is not running."""

    def __init__(self, runtime: str, where: str) -> None:
        self.runtime = runtime
        super().__init__(f"the {runtime} stack is not running ({where}); `chaosbed up` starts it")


class InstanceActionFailed(RuntimeFailure):
    """A fault on an instance could not be applied: it was not running, or did not obey."""

    def __init__(self, instance: str, action: str, why: str) -> None:
        self.instance = instance
        self.action = action
        self.why = why
        super().__init__(f"cannot {action} {instance}: {why}")


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


class ImagesMissing(RuntimeFailure):
    """The stack's images are not built yet."""

    def __init__(self, images: Sequence[str]) -> None:
        self.images = tuple(images)
        super().__init__(
            f"image{'s' if len(self.images) > 1 else ''} {', '.join(self.images)} "
            f"not found in the Docker Engine; build them first: {BUILD_HINT}"
        )


class ImageBuildFailed(RuntimeFailure):
    def __init__(self, command: Sequence[str], code: int) -> None:
        self.command = tuple(command)
        self.code = code
        super().__init__(
            f"building the images failed: `{' '.join(self.command)}` exited with {code} "
            "(its output is above)"
        )


class ComposeFailed(RuntimeFailure):
    """`docker compose` exited with an error."""

    def __init__(self, args: Sequence[str], code: int, output: str) -> None:
        self.args_ = tuple(args)
        self.code = code
        self.output = output
        lines = "\n".join(output.strip().splitlines()[-20:])
        super().__init__(f"`docker compose {' '.join(args)}` failed (exit {code}):\n{lines}")


class PrometheusStartError(RuntimeFailure):
    """Prometheus could not be started (chaos.runtime.prometheus)."""
