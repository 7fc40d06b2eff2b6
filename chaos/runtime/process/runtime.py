"""The process runtime: the stack as local processes under a background supervisor.

`up` checks that nothing runs and every port is free, writes the plan and the
control token, launches the supervisor (see supervisor.py) and returns once
every service answers 200 on /readyz. When the `prometheus` binary is found,
the plan has Prometheus too (see prometheus_program.py), and `up` also waits
until it is ready and has scraped every service; when it is not found, the
stack runs without it and `prometheus_url()` is None. Interrupted (Ctrl-C, SIGTERM turned
into an exception by the CLI) or failing, it stops what it started: the
launch itself and that cleanup run with interrupts deferred. `down` stops
the supervisor, which stops everything it started, and then makes sure no
recorded process is left. `status` reads state.json and probes every
program (program_status.py). The process-layer faults are in instances.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from chaos.runtime.base import RuntimeBase
from chaos.runtime.control_token import TOKEN_VARIABLE, ensure_token
from chaos.runtime.errors import (
    AlreadyRunning,
    InvalidStack,
    PortBusy,
    ProcessesSurvived,
    PrometheusStartError,
    SupervisorFailed,
)
from chaos.runtime.health import port_free
from chaos.runtime.interface import InstanceState, ServiceStatus
from chaos.runtime.interrupts import interrupts_deferred
from chaos.runtime.layout import StackPorts, ports_for
from chaos.runtime.prometheus import find_prometheus
from chaos.runtime.stack import ServiceSpec, check_start_order
from chaos.runtime.state_dir import StatePaths
from services.topology import HOST

from .host import pid_runs, terminate, wait_gone
from .instances import ProcessInstances
from .plan_file import Plan
from .program import service_program
from .program_status import program_statuses
from .prometheus_program import PrometheusOptions, PrometheusPlan
from .readiness import Readiness, tail
from .restart_policy import RestartPolicy
from .service_env import with_project_on_path
from .state_file import SupervisorState

__all__ = ["ProcessRuntime"]

SUPERVISOR_MODULE = "chaos.runtime.process.supervisor"
READY_TIMEOUT_S = 30.0
#: Prometheus as `chaosbed up` runs it: found on PATH, on the stack's ports
#: (127.0.0.1:9090, `load` on 9095, unless the stack has a port base).
DEFAULT_PROMETHEUS = PrometheusOptions()


class ProcessRuntime(RuntimeBase):
    def __init__(
        self,
        state_dir: Path = Path(".chaosbed"),
        *,
        services: Sequence[ServiceSpec] | None = None,
        ports: StackPorts | None = None,
        policy: RestartPolicy | None = None,
        ready_timeout_s: float | None = None,
        environ: Mapping[str, str] | None = None,
        prometheus: PrometheusOptions | None = DEFAULT_PROMETHEUS,
    ) -> None:
        """`ports`: the stack's layout (default: the one in `state_dir`, see
        chaos.runtime.layout); `services`: its services (default: the stack on
        those ports); `prometheus`: how to run Prometheus beside them (None: never)."""
        self.paths = StatePaths.at(state_dir)
        self.environ = dict(os.environ if environ is None else environ)
        self.ports = ports or ports_for(self.paths.root, environ=self.environ)
        self.services = self.ports.specs() if services is None else tuple(services)
        self.policy = policy or RestartPolicy()
        self.ready_timeout_s = READY_TIMEOUT_S if ready_timeout_s is None else ready_timeout_s
        self.prometheus = prometheus
        self._instances: ProcessInstances = ProcessInstances(
            self.paths, self.services, self.supervisor_pid, self.policy.stop_grace_s + 5.0
        )

    # -- up ----------------------------------------------------------------

    def up(self) -> list[ServiceStatus]:
        try:
            check_start_order(self.services)
        except ValueError as error:
            raise InvalidStack(str(error)) from error
        running = self.supervisor_pid()
        if running is not None:
            raise AlreadyRunning(self.paths.root, running)
        for spec in self.services:
            if not port_free(spec.port):
                raise PortBusy(spec.name, spec.port)
        prometheus = self._plan_prometheus()
        self._prepare(prometheus)
        token = ensure_token(self.paths, self.environ)
        try:
            with interrupts_deferred():  # a supervisor launched halfway would go untracked
                self._launch({**self.environ, TOKEN_VARIABLE: token})
            self._wait_ready(prometheus)
        except BaseException:
            with interrupts_deferred():
                self.down()
            raise
        return self.status()

    def _plan_prometheus(self) -> PrometheusPlan | None:
        """Prometheus for this `up`: None when not asked for or its binary is missing."""
        if self.prometheus is None:
            return None
        try:
            executable = find_prometheus(self.prometheus.binary)
        except PrometheusStartError:
            return None
        plan = PrometheusPlan(
            executable,
            self.prometheus.port or self.ports.prometheus,
            str(self.paths.prometheus_dir),
            load_port=self.prometheus.load_port or self.ports.load,
            monkey_port=self.ports.monkey,
        )
        if not port_free(plan.port):
            raise PortBusy(plan.program().name, plan.port)
        return plan

    def _prepare(self, prometheus: PrometheusPlan | None) -> None:
        self.paths.create()
        for hold in self.paths.hold_dir.iterdir():  # holds from an earlier run would stall `up`
            hold.unlink()
        for service in self.paths.releases():  # a fresh stack runs its own release
            self.paths.set_release(service, {})
        self.paths.pid_file.unlink(missing_ok=True)
        self.paths.state_file.unlink(missing_ok=True)
        self.ports.write(self.paths, "process")
        if prometheus is not None:
            prometheus.write_config(self.services)
        Plan.of(self.services, self.policy, prometheus).write(self.paths.plan_file)

    def _launch(self, environ: Mapping[str, str]) -> None:
        log_path = self.paths.supervisor_log
        with log_path.open("ab") as log_file:
            launcher = subprocess.Popen(
                [sys.executable, "-m", SUPERVISOR_MODULE, "--state-dir", str(self.paths.root)],
                env=with_project_on_path(environ),
                cwd=self.paths.root,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            code = launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait()
            raise SupervisorFailed("did not detach within 30s", tail(log_path)) from None
        if code != 0 or self.supervisor_pid() is None:
            raise SupervisorFailed(f"failed to start (exit status {code})", tail(log_path))

    def _wait_ready(self, prometheus: PrometheusPlan | None) -> None:
        programs = [service_program(spec) for spec in self.services]
        if prometheus is not None:
            programs.append(prometheus.program())
        wait = Readiness(self.paths, lambda: self.supervisor_pid() is not None)
        deadline = wait.started + self.ready_timeout_s
        wait.until_ready(programs, deadline)
        if prometheus is not None:
            wait.until_scraped(prometheus.program(), [s.name for s in self.services], deadline)

    # -- down --------------------------------------------------------------

    def down(self) -> bool:
        """Stop the supervisor and every process it started.

        Returns False when nothing was running (not an error: `down` is
        idempotent, like `docker compose down`). Raises ProcessesSurvived if
        a process outlives SIGKILL.
        """
        supervisor = self.supervisor_pid()
        recorded = self._recorded_live_services()
        if supervisor is not None:
            survivors = terminate([supervisor], grace_s=self.policy.stop_grace_s + 5.0)
            if survivors:
                raise ProcessesSurvived(survivors)

        def still_ours(pid: int) -> bool:
            return pid_runs(pid, recorded[pid])

        # The supervisor waits for its services; anything left is an orphan of a dead supervisor.
        orphans = wait_gone(recorded, 2.0, alive=still_ours)
        survivors = terminate(orphans, grace_s=self.policy.stop_grace_s)
        if survivors:
            raise ProcessesSurvived(survivors)
        if supervisor is not None:
            self.paths.pid_file.unlink(missing_ok=True)
        return supervisor is not None or bool(recorded)

    def _recorded_live_services(self) -> dict[int, str]:
        """pid -> marker of every process state.json records that still runs it."""
        state = SupervisorState.read(self.paths.state_file)
        if state is None:
            return {}
        return {
            record.pid: record.module
            for record in state.services
            if record.pid is not None and pid_runs(record.pid, record.module)
        }

    # -- reaching the services ----------------------------------------------

    def prometheus_url(self) -> str | None:
        """The URL of the Prometheus this stack runs, or None (stack down, or no binary)."""
        plan = Plan.read_if_any(self.paths.plan_file)
        if plan is None or plan.prometheus is None or self.supervisor_pid() is None:
            return None
        return plan.prometheus.url

    def load_metrics_host(self) -> str:
        """Where the load generator serves its metrics for this stack's Prometheus (job
        `load`): loopback, as every program of this runtime."""
        return HOST

    def load_metrics_port(self) -> int:
        """The port this stack's Prometheus scrapes the load generator on."""
        plan = Plan.read_if_any(self.paths.plan_file)
        if plan is not None and plan.prometheus is not None:
            return plan.prometheus.load_port
        chosen = self.prometheus.load_port if self.prometheus else None
        return chosen or self.ports.load

    # -- process-layer faults (see instances.py; the others in chaos/runtime/base.py) --

    async def deploy(self, instance: str, env: Mapping[str, str]) -> InstanceState:
        return await self._instances.deploy(instance, env)

    # -- status ------------------------------------------------------------

    def supervisor_pid(self) -> int | None:
        """The pid of the live supervisor for this state dir, or None."""
        pid = self.paths.read_pid()
        if pid is not None and pid_runs(pid, SUPERVISOR_MODULE):
            return pid
        return None

    def pid_of(self, service: str) -> int | None:
        """The pid of `service` as the supervisor last recorded it (for signals), or None."""
        state = SupervisorState.read(self.paths.state_file)
        record = state.record(service) if state and self.supervisor_pid() is not None else None
        return None if record is None else record.pid

    def status(self) -> list[ServiceStatus]:
        """The services, then Prometheus when the last `up` ran it."""
        programs = [service_program(spec) for spec in self.services]
        plan = Plan.read_if_any(self.paths.plan_file)
        if plan is not None and plan.prometheus is not None:
            programs.append(plan.prometheus.program())
        state = SupervisorState.read(self.paths.state_file)
        return program_statuses(programs, state, supervised=self.supervisor_pid() is not None)
