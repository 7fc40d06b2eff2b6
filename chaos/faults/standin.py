"""Application-layer stand-ins for network faults, where there is no network
layer (the process runtime).

An experiment opts in with `standin: allowed`; the plan and the journal
label every such fault a stand-in. What each becomes is decided by
`chaos.experiment.standin.standin_faults` (documented in docs/experiments.md).

A stand-in bit when its rules together matched requests: its parts may
shadow each other (an isolated service drops every request before it
would call out), so one part that matched nothing is no failure; a part
lost to a restart is.
"""

from __future__ import annotations

from chaos.experiment.model import AppFault, NetworkFault, Step
from chaos.experiment.standin import standin_faults
from chaos.slo import SliReader

from .app import AppFaultDriver
from .base import Injection
from .errors import InjectionFailed, NoEffect

__all__ = ["StandinDriver"]


class StandinDriver:
    """Runs a network fault as its application-layer stand-in."""

    layer = "network (application-layer stand-in)"

    def __init__(self, app: AppFaultDriver) -> None:
        self._app = app

    def accepts(self, step: Step) -> bool:
        return isinstance(step.fault, NetworkFault) and step.fault.standin_allowed

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None:
        assert isinstance(step.fault, NetworkFault)
        injection.standin = True
        faults = standin_faults(step.fault)
        if not faults:
            raise InjectionFailed(
                step.name, f"a {step.fault.kind} fault has no application-layer stand-in"
            )
        parts = injection.handle.setdefault("parts", [])
        for fault in faults:
            part = Injection(
                step.name, "application", f"stand-in {fault}", on_event=injection.on_event
            )
            parts.append(part)
            await self._app.inject(_as_step(step, fault), part, ttl)

    async def verify(self, step: Step, injection: Injection) -> None:
        for part, fault in self._parts(step, injection):
            await self._app.verify(_as_step(step, fault), part)
        injection.verification = "; ".join(p.verification for p, _ in self._parts(step, injection))

    async def confirm_effect(
        self, step: Step, injection: Injection, reader: SliReader, since: float
    ) -> None:
        counts = [
            (part, await self._app.matched(_as_step(step, fault), part))
            for part, fault in self._parts(step, injection)
        ]
        said = "; ".join(f"{n} by {p.description}" for p, n in counts)
        if not any(n for _, n in counts):
            raise NoEffect(step.name, f"its stand-in rules matched no request ({said})")
        injection.effect = f"requests matched: {said}"

    async def rollback(self, step: Step, injection: Injection) -> None:
        for part, fault in self._parts(step, injection):
            await self._app.rollback(_as_step(step, fault), part)
        injection.rollback = "; ".join(p.rollback for p, _ in self._parts(step, injection))

    def _parts(self, step: Step, injection: Injection) -> list[tuple[Injection, AppFault]]:
        assert isinstance(step.fault, NetworkFault)
        parts: list[Injection] = injection.handle.get("parts", [])
        return list(zip(parts, standin_faults(step.fault) or (), strict=False))


def _as_step(step: Step, fault: AppFault) -> Step:
    return Step(step.name, fault, step.offset, step.duration)
