"""Process-layer faults: kill, down, stop, pause, restart, deploy, delete.

The driver chooses the instances, asks the runtime to act on them, and then
watches the runtime's own view of each instance until the effect shows (a
new pid after a kill, `paused` after a pause, ...): a fault that did
nothing fails the run. The rollback puts each instance back and waits until
its service is ready again.

| fault   | inject                      | verified when            | rollback              |
|---------|-----------------------------|--------------------------|-----------------------|
| kill    | SIGKILL; the restart policy | the old process is gone  | wait until ready      |
| down    | kill and keep down          | no process runs          | start, wait ready     |
| stop    | graceful stop               | no process runs          | start, wait ready     |
| pause   | SIGSTOP / docker pause      | paused                   | resume, wait ready    |
| restart | graceful restart            | the old process is gone  | wait until ready      |
| deploy  | restart with the release    | a new process runs the   | restart with the      |
|         | (`env` over its own)        | release, and is ready    | release it had, ready |
|         |                             | (within the ready bound) |                       |
| delete  | the pod deleted through the | its process ended (or    | wait until as many    |
|         | API (cluster only)          | the pod is gone)         | run as before, ready  |

At the step's end, before the rollback, a process fault must also have been
seen (`confirm_effect`): callers of the target had calls fail or used a
fallback for it, or member journeys entering it failed (effect.py). A
replicated or fallback-protected target may show only on the callers' side:
a restarted profiles replica as its peers' failed replication calls. A
deploy's effect is the release itself, still running at the step's end in
the process it was verified on (what the release breaks is for the
experiment's checks to find: a history, an SLO). A delete's effect is the
orchestrator's answer to it: by the step's end its controller made a new pod
for each one deleted (a pod deleted gracefully from a well-run Service may
leave callers nothing to see; that it did is what such an experiment shows).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from chaos.experiment.model import ProcessFault, Step
from chaos.runtime.interface import InstanceState, Runtime
from chaos.slo import SliReader

from . import effect
from .base import Injection
from .errors import InjectionFailed, NoEffect, NotVerified, RollbackFailed

__all__ = ["ProcessFaultDriver", "choose_instances"]


def choose_instances(
    instances: Sequence[InstanceState], fault: ProcessFault, rng: random.Random
) -> list[InstanceState]:
    """Every instance by default; else `instances` of them or `instances_percent`
    (rounded up, at least one), chosen at random."""
    pool = sorted(instances, key=lambda i: i.instance)
    if fault.instances is not None:
        count = fault.instances
    elif fault.instances_percent is not None:
        count = max(1, math.ceil(len(pool) * fault.instances_percent / 100))
    else:
        return pool
    return sorted(rng.sample(pool, min(count, len(pool))), key=lambda i: i.instance)


class ProcessFaultDriver:
    layer = "process"

    def __init__(
        self,
        control: Runtime,
        *,
        rng: random.Random | None = None,
        verify_timeout: float = 10.0,
        ready_timeout: float = 30.0,
        poll: float = 0.1,
        effect_grace: float = effect.GRACE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._control = control
        self._effect_grace = effect_grace
        self._rng = rng or random.Random()
        self._verify_timeout = verify_timeout
        self._ready_timeout = ready_timeout
        self._poll = poll
        self._clock = clock

    def accepts(self, step: Step) -> bool:
        return isinstance(step.fault, ProcessFault)

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None:
        fault = step.fault
        assert isinstance(fault, ProcessFault)
        found = await self._control.instances(fault.target)
        running = [i for i in found if i.state == "running" and not i.going]
        if not running:
            raise InjectionFailed(step.name, f"no running instance of {fault.target}")
        chosen = choose_instances(running, fault, self._rng)
        if fault.kind == "delete":  # what was there: a replacement is what was not
            injection.handle["before"] = [i.uid for i in found]
            injection.handle["running"] = len(running)
        injection.handle["instances"] = [
            {
                "ident": i.instance,
                "pid": i.pid,
                "container_id": i.container_id,
                "service": i.service,
                "release": dict(i.release),
                "uid": i.uid,
            }
            for i in chosen
        ]
        act = {
            "kill": self._control.kill,
            "down": self._control.hold,
            "stop": self._control.stop,
            "pause": self._control.pause,
            "restart": self._control.restart,
            "deploy": self._deploy(dict(fault.env)),
            "delete": self._control.delete,
        }[fault.kind]
        for instance in chosen:
            try:
                await act(instance.instance)
            except Exception as exc:  # noqa: BLE001 - the runtime's own error, named
                raise InjectionFailed(
                    step.name, f"{fault.kind} {instance.service}/{instance.instance}: {exc}"
                ) from exc

    async def verify(self, step: Step, injection: Injection) -> None:
        fault = step.fault
        assert isinstance(fault, ProcessFault)
        chosen = injection.handle["instances"]
        # a deploy is in place once its new process is ready, a deleted pod's process ends
        # within its grace period: each as long as a rollback may wait
        slow = fault.kind in ("deploy", "delete")
        timeout = self._ready_timeout if slow else self._verify_timeout
        deadline = self._clock() + timeout
        while True:
            now_seen = {i.instance: i for i in await self._control.instances(fault.target)}
            missing = [c for c in chosen if not _took_effect(fault, c, now_seen)]
            if not missing and (fault.kind != "deploy" or await self._control.ready(fault.target)):
                break
            if self._clock() >= deadline:
                idents = ", ".join(c["ident"] for c in missing)
                raise NotVerified(
                    step.name,
                    f"{fault.kind} of {fault.target} did not take effect on {idents or 'it'} "
                    f"within {timeout:g}s" + ("" if missing else f" ({fault.target} not ready)"),
                )
            await asyncio.sleep(self._poll)
        if fault.kind == "deploy":
            for c in chosen:
                c["deployed_pid"] = now_seen[c["ident"]].pid
            injection.verification = f"release {_release(fault.env)} runs on " + ", ".join(
                f"{c['service']}/{c['ident']} (pid {c['pid']} -> {c['deployed_pid']}), ready"
                for c in chosen
            )
            return
        injection.verification = f"{fault.kind} seen on " + ", ".join(
            f"{c['service']}/{c['ident']} (pid {c['pid']})" for c in chosen
        )

    async def confirm_effect(
        self, step: Step, injection: Injection, reader: SliReader, since: float
    ) -> None:
        fault = step.fault
        assert isinstance(fault, ProcessFault)
        if fault.kind == "deploy":
            injection.effect = await self._release_ran(step, fault, injection)
            return
        if fault.kind == "delete":
            injection.effect = await self._replaced(step, fault, injection)
            return
        injection.effect = await effect.confirm(
            step.name,
            f"{fault.kind} of {fault.target}",
            [*effect.calls(dependency=fault.target), *effect.members(fault.target)],
            reader,
            since,
            grace=self._effect_grace,
            clock=self._clock,
        )

    async def rollback(self, step: Step, injection: Injection) -> None:
        fault = step.fault
        assert isinstance(fault, ProcessFault)
        chosen = injection.handle.get("instances", [])
        if fault.kind == "deploy":
            await self._undeploy(step, fault, chosen)
            had = sorted({_release(c["release"].items()) or "its own" for c in chosen})
            injection.rollback = (
                f"{fault.target} restarted with the release it had ({', '.join(had)}) and ready"
            )
            return
        undo = {
            "down": self._control.start,
            "stop": self._control.start,
            "pause": self._control.unpause,
        }.get(fault.kind)
        if fault.kind == "delete":
            await self._back_to(step, fault, int(injection.handle.get("running", 0)))
            injection.rollback = (
                f"{fault.target} runs {injection.handle.get('running', 0)} instance(s) again, "
                "replaced by its controller, and is ready"
            )
            return
        for record in chosen:
            if undo is not None:
                try:
                    await undo(record["ident"])
                except Exception as exc:  # noqa: BLE001 - the runtime's own error, named
                    raise RollbackFailed(step.name, f"{record['ident']}: {exc}") from exc
        deadline = self._clock() + self._ready_timeout
        while not await self._control.ready(fault.target):
            if self._clock() >= deadline:
                raise RollbackFailed(
                    step.name, f"{fault.target} not ready {self._ready_timeout:g}s after rollback"
                )
            await asyncio.sleep(self._poll)
        action = {"down": "released", "stop": "started", "pause": "resumed"}.get(
            fault.kind, "came back"
        )
        injection.rollback = f"{fault.target} {action} and ready"

    async def _replaced(self, step: Step, fault: ProcessFault, injection: Injection) -> str:
        """A new instance (a pod whose uid was not there before the delete: a new name,
        or a StatefulSet's old name) for each one deleted."""
        chosen = injection.handle["instances"]
        before = set(injection.handle["before"])
        now = await self._control.instances(fault.target)
        new = [i for i in now if i.uid is not None and i.uid not in before and not i.going]
        if len(new) < len(chosen):
            deleted = ", ".join(c["ident"] for c in chosen)
            raise NoEffect(
                step.name,
                f"{deleted} deleted, but by the step's end {fault.target}'s controller had "
                f"made {len(new)} new instance(s) for {len(chosen)} deleted: the orchestrator "
                "did not replace it",
            )
        return f"{', '.join(c['ident'] for c in chosen)} deleted; its controller made " + (
            ", ".join(f"{i.instance} ({i.state})" for i in new)
        )

    async def _back_to(self, step: Step, fault: ProcessFault, running: int) -> None:
        """As many running instances as before the delete, and the service ready."""
        deadline = self._clock() + self._ready_timeout
        while True:
            now = await self._control.instances(fault.target)
            up = sum(1 for i in now if i.state == "running" and not i.going)
            if up >= running and await self._control.ready(fault.target):
                return
            if self._clock() >= deadline:
                raise RollbackFailed(
                    step.name,
                    f"{fault.target} runs {up} instance(s) of the {running} it ran before the "
                    f"delete, or is not ready, {self._ready_timeout:g}s after rollback",
                )
            await asyncio.sleep(self._poll)

    def _deploy(self, env: dict[str, str]) -> Callable[[str], Awaitable[InstanceState]]:
        async def deploy(instance: str) -> InstanceState:
            return await self._control.deploy(instance, env)

        return deploy

    async def _release_ran(self, step: Step, fault: ProcessFault, injection: Injection) -> str:
        """The release still runs, in the process it was verified on, on every instance."""
        chosen = injection.handle["instances"]
        now_seen = {i.instance: i for i in await self._control.instances(fault.target)}
        gone = [
            c["ident"]
            for c in chosen
            if (now := now_seen.get(c["ident"])) is None
            or now.pid != c.get("deployed_pid")
            or now.release != tuple(sorted(fault.env))
        ]
        if gone:
            raise NoEffect(
                step.name,
                f"the release {_release(fault.env)} no longer runs on {', '.join(gone)} "
                "(its process was replaced during the step)",
            )
        return f"release {_release(fault.env)} ran through the step on " + ", ".join(
            f"{c['service']}/{c['ident']} (pid {c['deployed_pid']})" for c in chosen
        )

    async def _undeploy(
        self, step: Step, fault: ProcessFault, chosen: list[dict[str, Any]]
    ) -> None:
        """Each instance restarted with the release it had before the deploy, then ready."""
        for record in chosen:
            try:
                await self._control.deploy(record["ident"], dict(record["release"]))
            except Exception as exc:  # noqa: BLE001 - the runtime's own error, named
                raise RollbackFailed(step.name, f"{record['ident']}: {exc}") from exc
        deadline = self._clock() + self._ready_timeout
        while True:
            now_seen = {i.instance: i for i in await self._control.instances(fault.target)}
            back = all(
                (now := now_seen.get(c["ident"])) is not None
                and now.state == "running"
                and now.release == tuple(sorted(c["release"].items()))
                for c in chosen
            )
            if back and await self._control.ready(fault.target):
                return
            if self._clock() >= deadline:
                raise RollbackFailed(
                    step.name,
                    f"{fault.target} not back on the release it had, and ready, "
                    f"{self._ready_timeout:g}s after rollback",
                )
            await asyncio.sleep(self._poll)


def _release(env: Iterable[tuple[str, str]]) -> str:
    return " ".join(f"{k}={v}" for k, v in env)


def _took_effect(
    fault: ProcessFault, before: dict[str, Any], now: dict[str, InstanceState]
) -> bool:
    kind = fault.kind
    instance = now.get(str(before["ident"]))
    if instance is not None and instance.unread:  # its process not read: no evidence
        return False
    if kind == "deploy":  # a new process (container) that runs the release
        return (
            instance is not None
            and instance.state == "running"
            and (instance.pid != before["pid"] or instance.container_id != before["container_id"])
            and instance.release == tuple(sorted(fault.env))
        )
    if kind == "pause":
        return instance is not None and instance.state == "paused"
    if kind == "delete":  # the pod gone (a StatefulSet's namesake has another uid), or its
        # process ended while its orchestrator lets go of it
        return (
            instance is None
            or instance.uid != before["uid"]
            or (instance.going and instance.state == "stopped")
        )
    if kind in ("down", "stop"):
        return instance is None or instance.state == "stopped"
    # kill / restart: the process we saw is gone (a restart may already be up)
    return instance is None or instance.pid != before["pid"] or instance.state != "running"
