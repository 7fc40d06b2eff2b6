"""The process runtime: the stack as local processes under a background supervisor.

`up` checks that nothing runs and every port is free, writes the plan and the
control token, launches the supervisor (see supervisor.py) and returns once
every service answers 200 on /readyz. Interrupted (Ctrl-C, SIGTERM turned
into an exception by the CLI) or failing, it stops what it started: the
launch itself and that cleanup run with interrupts deferred. `down` stops
the supervisor, which stops everything it started, and then makes sure no
recorded process is left. `status` reads state.json and probes every
service. The process-layer faults are in instances.py.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from chaos.runtime.control_token import TOKEN_VARIABLE, ensure_token, read_token
from chaos.runtime.errors import (
    AlreadyRunning,
    InvalidStack,
    PortBusy,
    ProcessesSurvived,
    ServiceNeverHealthy,
    SupervisorFailed,
)
from chaos.runtime.health import check_health, port_free, probe
from chaos.runtime.interface import InstanceState, ServiceStatus
from chaos.runtime.interrupts import interrupts_deferred
from chaos.runtime.stack import STACK, ServiceSpec, check_start_order, spec_named
from chaos.runtime.state_dir import StatePaths

from .host import pid_runs, process_state, terminate, wait_gone
from .instances import ProcessInstances
from .plan_file import Plan
from .restart_policy import RestartPolicy
from .service_env import with_project_on_path
from .state_file import ServiceRecord, SupervisorState

__all__ = ["ProcessRuntime", "tail"]

SUPERVISOR_MODULE = "chaos.runtime.process.supervisor"
READY_TIMEOUT_S = 30.0


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a log file ('' when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class ProcessRuntime:
    def __init__(
        self,
        state_dir: Path = Path(".chaosbed"),
        *,
        services: Sequence[ServiceSpec] = STACK,
        policy: RestartPolicy | None = None,
        ready_timeout_s: float | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.paths = StatePaths.at(state_dir)
        self.services = tuple(services)
        self.policy = policy or RestartPolicy()
        self.ready_timeout_s = READY_TIMEOUT_S if ready_timeout_s is None else ready_timeout_s
        self.environ = dict(os.environ if environ is None else environ)
        self._instances = ProcessInstances(
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
        self._prepare()
        token = ensure_token(self.paths, self.environ)
        try:
            with interrupts_deferred():  # a supervisor launched halfway would go untracked
                self._launch({**self.environ, TOKEN_VARIABLE: token})
            self._wait_ready()
        except BaseException:
            with interrupts_deferred():
                self.down()
            raise
        return self.status()

    def _prepare(self) -> None:
        self.paths.create()
        for hold in self.paths.hold_dir.iterdir():  # holds from an earlier run would stall `up`
            hold.unlink()
        self.paths.pid_file.unlink(missing_ok=True)
        self.paths.state_file.unlink(missing_ok=True)
        Plan.of(self.services, self.policy).write(self.paths.plan_file)

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

    def _wait_ready(self) -> None:
        started = time.monotonic()
        deadline = started + self.ready_timeout_s
        pending = list(self.services)
        last: dict[str, str] = {}
        while pending:
            if self.supervisor_pid() is None:
                log_tail = tail(self.paths.supervisor_log)
                raise SupervisorFailed("exited while the stack was starting", log_tail)
            state = SupervisorState.read(self.paths.state_file)
            for spec in list(pending):
                record = state.record(spec.name) if state else None
                if record is not None and record.state == "failed":
                    raise self._never_healthy(spec, started, record.detail)
                answer = probe(spec.port, "/readyz", timeout_s=1.0)
                supervised = record is not None and record.state == "running"
                if answer.ok and supervised:
                    pending.remove(spec)
                else:
                    detail = record.detail if record and record.detail else ""
                    state_name = record.state if record else "not started"
                    last[spec.name] = "; ".join(
                        part for part in (answer.describe(), state_name, detail) if part
                    )
            if pending and time.monotonic() >= deadline:
                spec = pending[0]
                raise self._never_healthy(spec, started, f"/readyz: {last[spec.name]}")
            if pending:
                time.sleep(0.1)

    def _never_healthy(self, spec: ServiceSpec, started: float, why: str) -> ServiceNeverHealthy:
        waited = time.monotonic() - started
        return ServiceNeverHealthy(
            spec.name, spec.port, waited, why, tail(self.paths.service_log(spec.name))
        )

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
        """pid -> module of every service process state.json records that still runs it."""
        state = SupervisorState.read(self.paths.state_file)
        if state is None:
            return {}
        return {
            record.pid: record.module
            for record in state.services
            if record.pid is not None and pid_runs(record.pid, record.module)
        }

    # -- reaching the services ----------------------------------------------

    def base_url(self, service: str) -> str:
        return spec_named(self.services, service).base_url

    def control_token(self) -> str | None:
        return read_token(self.paths, self.environ)

    async def ready(self, service: str) -> bool:
        port = spec_named(self.services, service).port
        return (await asyncio.to_thread(probe, port, "/readyz")).ok

    # -- process-layer faults (see instances.py) -------------------------------

    async def instances(self, service: str | None = None) -> list[InstanceState]:
        return self._instances.snapshot(service)

    async def kill(self, instance: str) -> InstanceState:
        return await self._instances.kill(instance)

    async def hold(self, instance: str) -> InstanceState:
        return await self._instances.hold(instance)

    async def stop(self, instance: str) -> InstanceState:
        return await self._instances.stop(instance)

    async def start(self, instance: str) -> InstanceState:
        return await self._instances.start(instance)

    async def pause(self, instance: str) -> InstanceState:
        return await self._instances.pause(instance)

    async def unpause(self, instance: str) -> InstanceState:
        return await self._instances.unpause(instance)

    async def restart(self, instance: str) -> InstanceState:
        return await self._instances.restart(instance)

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
        supervised = self.supervisor_pid() is not None
        state = SupervisorState.read(self.paths.state_file)
        records = [self._record_for(spec, state) for spec in self.services]
        health = check_health([spec.port for spec in self.services])
        statuses = []
        for spec, record, answers in zip(self.services, records, health, strict=True):
            pid = record.pid
            if pid is not None and not pid_runs(pid, spec.module):
                pid = None
            if pid is None:
                state_name = record.state if supervised else "stopped"
            elif not supervised:
                state_name = "orphaned"
            elif process_state(pid) == "T":
                state_name = "paused"
            else:
                state_name = record.state
            statuses.append(
                ServiceStatus(
                    name=spec.name,
                    port=spec.port,
                    pid=pid,
                    state=state_name,
                    healthy=answers.healthz.ok,
                    ready=answers.readyz.ok,
                    restarts=record.restarts,
                    detail=record.detail if supervised else "",
                )
            )
        return statuses

    @staticmethod
    def _record_for(spec: ServiceSpec, state: SupervisorState | None) -> ServiceRecord:
        record = state.record(spec.name) if state else None
        return record or ServiceRecord(spec.name, spec.module, spec.port, state="stopped")
