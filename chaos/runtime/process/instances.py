"""Process-layer faults on supervised services: signals to the pids in state.json, and holds.

One instance per service; its id is the service name. The supervisor must
be running: it is what restarts a killed service, and what keeps a held one
down (see state_dir.py for the hold files).

    kill      SIGKILL the pid; the supervisor restarts it (restart policy, backoff)
    hold      hold file + SIGKILL; the supervisor keeps it stopped
    stop      hold file; the supervisor sends SIGTERM, then SIGKILL after the grace
    start     hold file removed; the supervisor starts it again (fresh restart budget)
    pause     SIGSTOP; unpause: SIGCONT
    restart   stop, then start
    deploy    the release file written (removed for none), then restart: the
              supervisor starts it with those variables over its own environment
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence

from chaos.runtime.errors import InstanceActionFailed, NotRunning, UnknownService
from chaos.runtime.interface import InstanceState, RunState
from chaos.runtime.stack import ServiceSpec, spec_named
from chaos.runtime.state_dir import StatePaths

from .host import pid_runs, process_state
from .state_file import ServiceRecord, SupervisorState

__all__ = ["ProcessInstances"]

POLL_S = 0.05


class ProcessInstances:
    def __init__(
        self,
        paths: StatePaths,
        services: Sequence[ServiceSpec],
        supervisor_pid: Callable[[], int | None],
        stop_wait_s: float,
    ) -> None:
        self.paths = paths
        self.services = tuple(services)
        self.supervisor_pid = supervisor_pid
        self.stop_wait_s = stop_wait_s

    # -- reading -------------------------------------------------------------

    async def snapshot(self, service: str | None = None) -> list[InstanceState]:
        return self.read(service)

    def read(self, service: str | None = None) -> list[InstanceState]:
        if self.supervisor_pid() is None:
            raise NotRunning("process", f"no supervisor for {self.paths.root}")
        specs = self.services if service is None else (self._spec(service),)
        state = SupervisorState.read(self.paths.state_file)
        return [self._instance(spec, state.record(spec.name) if state else None) for spec in specs]

    def one(self, instance: str) -> InstanceState:
        return self.read(instance)[0]

    def _spec(self, name: str) -> ServiceSpec:
        try:
            return spec_named(self.services, name)
        except UnknownService as unknown:
            raise UnknownService(name, unknown.known, what="instance") from None

    @staticmethod
    def _instance(spec: ServiceSpec, record: ServiceRecord | None) -> InstanceState:
        pid = None if record is None else record.pid
        if pid is not None and not pid_runs(pid, spec.module):
            pid = None
        run_state: RunState = "stopped"
        if pid is not None:
            run_state = "paused" if process_state(pid) == "T" else "running"
        return InstanceState(
            service=spec.name,
            instance=spec.name,
            state=run_state,
            pid=pid,
            restarts=0 if record is None else record.restarts,
            detail="not started" if record is None else record.state,
            release=() if record is None or pid is None else tuple(sorted(record.release.items())),
        )

    # -- acting --------------------------------------------------------------

    async def kill(self, instance: str) -> InstanceState:
        found = self._running(instance, "kill")
        self._signal(found, signal.SIGKILL, "kill")
        return found

    async def hold(self, instance: str) -> InstanceState:
        found = self.one(instance)
        self.paths.hold(found.service)
        if found.pid is not None:
            with contextlib.suppress(ProcessLookupError):  # gone already: held all the same
                os.kill(found.pid, signal.SIGKILL)
        await self._until_held(found)
        return found

    async def stop(self, instance: str) -> InstanceState:
        found = self.one(instance)
        self.paths.hold(found.service)
        await self._until_held(found)
        return found

    async def start(self, instance: str) -> InstanceState:
        found = self.one(instance)
        self.paths.release(found.service)
        await self._until(lambda now: now.detail != "held", found, "leave the held state")
        return found

    async def pause(self, instance: str) -> InstanceState:
        found = self._running(instance, "pause")
        self._signal(found, signal.SIGSTOP, "pause")
        await self._until(lambda now: now.state == "paused", found, "pause")
        return found

    async def unpause(self, instance: str) -> InstanceState:
        found = self.one(instance)
        if found.state == "paused":
            self._signal(found, signal.SIGCONT, "unpause")
            await self._until(lambda now: now.state != "paused", found, "resume")
        return found

    async def restart(self, instance: str) -> InstanceState:
        found = await self.stop(instance)
        await self.start(instance)
        return found

    async def deploy(self, instance: str, env: Mapping[str, str]) -> InstanceState:
        found = self.one(instance)
        self.paths.set_release(found.service, dict(env))
        await self.restart(instance)
        return found

    # -- helpers -------------------------------------------------------------

    def _running(self, instance: str, action: str) -> InstanceState:
        found = self.one(instance)
        if found.state != "running":
            why = "paused" if found.state == "paused" else found.detail
            raise InstanceActionFailed(instance, action, f"it is {why}, not running")
        return found

    @staticmethod
    def _signal(found: InstanceState, sig: signal.Signals, action: str) -> None:
        assert found.pid is not None
        try:
            os.kill(found.pid, sig)
        except ProcessLookupError:
            raise InstanceActionFailed(
                found.instance, action, f"pid {found.pid} exited just before"
            ) from None

    async def _until_held(self, found: InstanceState) -> None:
        def held(now: InstanceState) -> bool:
            return now.detail == "held" and now.pid is None

        await self._until(held, found, "stop")

    async def _until(
        self, done: Callable[[InstanceState], bool], found: InstanceState, what: str
    ) -> None:
        deadline = time.monotonic() + self.stop_wait_s
        while not done(now := self.one(found.instance)):
            if time.monotonic() >= deadline:
                raise InstanceActionFailed(
                    found.instance, what, f"still {now.detail} after {self.stop_wait_s:.0f}s"
                )
            await asyncio.sleep(POLL_S)
