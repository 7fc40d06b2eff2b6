"""Process-layer faults: kill, down, stop, pause, restart.

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

At the step's end, before the rollback, a process fault must also have been
seen (`confirm_effect`): callers of the target had calls fail or used a
fallback for it, or member journeys entering it failed (effect.py). A
replicated or fallback-protected target may show only on the callers' side:
a restarted profiles replica as its peers' failed replication calls.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Sequence

from chaos.experiment.model import ProcessFault, Step
from chaos.runtime.interface import InstanceState, Runtime
from chaos.slo import SliReader

from . import effect
from .base import Injection
from .errors import InjectionFailed, NotVerified, RollbackFailed

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
        running = [i for i in found if i.state == "running"]
        if not running:
            raise InjectionFailed(step.name, f"no running instance of {fault.target}")
        chosen = choose_instances(running, fault, self._rng)
        injection.handle["instances"] = [
            {"ident": i.instance, "pid": i.pid, "service": i.service} for i in chosen
        ]
        act = {
            "kill": self._control.kill,
            "down": self._control.hold,
            "stop": self._control.stop,
            "pause": self._control.pause,
            "restart": self._control.restart,
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
        deadline = self._clock() + self._verify_timeout
        while True:
            now_seen = {i.instance: i for i in await self._control.instances(fault.target)}
            missing = [c for c in chosen if not _took_effect(fault.kind, c, now_seen)]
            if not missing:
                break
            if self._clock() >= deadline:
                idents = ", ".join(c["ident"] for c in missing)
                raise NotVerified(
                    step.name,
                    f"{fault.kind} of {fault.target} did not take effect on {idents} "
                    f"within {self._verify_timeout:g}s",
                )
            await asyncio.sleep(self._poll)
        injection.verification = f"{fault.kind} seen on " + ", ".join(
            f"{c['service']}/{c['ident']} (pid {c['pid']})" for c in chosen
        )

    async def confirm_effect(
        self, step: Step, injection: Injection, reader: SliReader, since: float
    ) -> None:
        fault = step.fault
        assert isinstance(fault, ProcessFault)
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
        undo = {
            "down": self._control.start,
            "stop": self._control.start,
            "pause": self._control.unpause,
        }.get(fault.kind)
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


def _took_effect(kind: str, before: dict[str, object], now: dict[str, InstanceState]) -> bool:
    instance = now.get(str(before["ident"]))
    if kind == "pause":
        return instance is not None and instance.state == "paused"
    if kind in ("down", "stop"):
        return instance is None or instance.state == "stopped"
    # kill / restart: the process we saw is gone (a restart may already be up)
    return instance is None or instance.pid != before["pid"] or instance.state != "running"
