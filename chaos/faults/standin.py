"""Application-layer stand-ins for network faults, where there is no network
layer (the process runtime).

An experiment opts in with `standin: allowed`; the plan and the journal
label every such fault a stand-in. What each becomes:

- partition between A and B: a dropped connection on every edge from a
  service in A to one in B and back; one way (`from`/`to`): only those edges;
- isolate X: a dropped connection on every route of X (members and callers
  are cut; metrics and the control API are never faulted, so the SLIs stay
  honest) and on every edge out of X;
- loss on X at p%: a dropped connection on p% of requests to every route of X.

Bandwidth and kernel latency have no faithful stand-in and are refused at
validation.
"""

from __future__ import annotations

from chaos.experiment.model import EDGES, AppFault, Edge, NetworkFault, Step

from .app import AppFaultDriver
from .base import Injection
from .errors import InjectionFailed

__all__ = ["StandinDriver", "standin_faults"]


def standin_faults(fault: NetworkFault) -> list[AppFault]:
    """The application-layer rules that stand in for a network fault."""
    if fault.kind == "partition":
        if fault.between is not None:
            a, b = (set(group) for group in fault.between)
            pairs = [(x, y) for x, y in EDGES if (x in a and y in b) or (x in b and y in a)]
        else:
            src, dst = set(fault.from_ or ()), set(fault.to or ())
            pairs = [(x, y) for x, y in EDGES if x in src and y in dst]
        return [AppFault("drop", edge=Edge(x, y)) for x, y in pairs]
    if fault.kind == "isolate" and fault.target is not None:
        out = [AppFault("drop", edge=Edge(x, y)) for x, y in EDGES if x == fault.target]
        return [AppFault("drop", target=fault.target), *out]
    if fault.kind == "loss" and fault.edge is not None:
        return [AppFault("drop", edge=fault.edge, percent=fault.percent)]
    if fault.kind == "loss" and fault.target is not None:
        return [AppFault("drop", target=fault.target, percent=fault.percent)]
    return []


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
            part = Injection(step.name, "application", f"stand-in {fault}")
            parts.append(part)
            await self._app.inject(_as_step(step, fault), part, ttl)

    async def verify(self, step: Step, injection: Injection) -> None:
        for part, fault in self._parts(step, injection):
            await self._app.verify(_as_step(step, fault), part)
        injection.verification = "; ".join(p.verification for p, _ in self._parts(step, injection))

    async def rollback(self, step: Step, injection: Injection) -> None:
        for part, fault in self._parts(step, injection):
            await self._app.rollback(_as_step(step, fault), part)
        injection.rollback = "; ".join(p.rollback for p, _ in self._parts(step, injection))

    def _parts(self, step: Step, injection: Injection) -> list[tuple[Injection, AppFault]]:
        assert isinstance(step.fault, NetworkFault)
        parts: list[Injection] = injection.handle.get("parts", [])
        return list(zip(parts, standin_faults(step.fault), strict=False))


def _as_step(step: Step, fault: AppFault) -> Step:
    return Step(step.name, fault, step.offset, step.duration)
