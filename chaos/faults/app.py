"""Application-layer faults through the services' control API.

An edge fault (`recommendations -> profiles`) is a client-side rule in the
caller; a target fault is a server-side rule in the target, on one route or
every route (`*`). Every rule carries its step's tag (the run's tag, then
``/`` and the step: `step_tag`) and a TTL no longer than what is left of the
step plus a small margin, so a runner killed outright leaves nothing behind
for long, and a rollback that never learnt its rule's id removes its own
step's rules and no other step's.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from chaos.experiment import limits
from chaos.experiment.model import AppFault, Step

from .base import Injection
from .control_client import ControlApiError, ControlClient
from .errors import InjectionFailed, NotVerified, RollbackFailed

__all__ = ["AppFaultDriver", "rule_for", "step_tag"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def step_tag(run_tag: str, step_name: str) -> str:
    """`run_tag/<step, as tag characters>-<hash>`: a valid rule tag, one per
    step (the hash keeps "a b" and "a-b" apart), that still starts with the
    run's tag."""
    digest = hashlib.sha1(step_name.encode()).hexdigest()[:6]
    return f"{run_tag}/{_UNSAFE.sub('-', step_name)[:40]}-{digest}"


def rule_for(fault: AppFault, *, tag: str, ttl: float) -> tuple[str, dict[str, Any]]:
    """The service that holds the rule, and the rule's JSON."""
    rule: dict[str, Any] = {
        "kind": fault.kind,
        "cohort": fault.cohort,
        "percent": fault.percent,
        "tag": tag,
        "ttl_s": round(min(limits.RULE_TTL_MAX, max(1.0, ttl)), 3),
    }
    if fault.kind == "latency":
        rule["delay_ms"] = fault.delay_ms
        rule["jitter_ms"] = fault.jitter_ms
    if fault.kind == "error":
        rule["status"] = fault.status
    if fault.edge is not None:
        rule["edge"] = str(fault.edge)
        return fault.edge.caller, rule
    assert fault.target is not None
    rule["route"] = fault.route or "*"
    if fault.method:
        rule["method"] = fault.method
    return fault.target, rule


class AppFaultDriver:
    layer = "application"

    def __init__(self, client: ControlClient, tag: str) -> None:
        self._client = client
        self._tag = tag

    def accepts(self, step: Step) -> bool:
        return isinstance(step.fault, AppFault)

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None:
        assert isinstance(step.fault, AppFault)
        service, rule = rule_for(step.fault, tag=step_tag(self._tag, step.name), ttl=ttl)
        injection.handle["service"] = service
        try:
            added = await self._client.add(service, rule)
        except ControlApiError as exc:
            raise InjectionFailed(step.name, str(exc)) from exc
        injection.handle["rule_id"] = added["id"]
        injection.handle["rule"] = rule

    async def verify(self, step: Step, injection: Injection) -> None:
        service, rule_id = injection.handle["service"], injection.handle.get("rule_id")
        try:
            listed = await self._client.list(service, step_tag(self._tag, step.name))
        except ControlApiError as exc:
            raise NotVerified(step.name, str(exc)) from exc
        if not any(r.get("id") == rule_id for r in listed):
            raise NotVerified(step.name, f"rule {rule_id} is not listed by {service}")
        injection.verification = f"rule {rule_id} listed by {service}"

    async def rollback(self, step: Step, injection: Injection) -> None:
        service = injection.handle.get("service")
        if service is None:
            injection.rollback = "nothing was injected"
            return
        rule_id = injection.handle.get("rule_id")
        tag = step_tag(self._tag, step.name)
        try:
            if rule_id is None:  # the add may have landed before we were cancelled
                removed = await self._client.remove_tag(service, tag)
                injection.rollback = f"removed {removed} rule(s) tagged {tag} from {service}"
                return
            gone = await self._client.remove(service, rule_id)
            left = [r for r in await self._client.list(service, tag) if r["id"] == rule_id]
        except ControlApiError as exc:
            raise RollbackFailed(step.name, f"{exc} (the rule expires by its TTL)") from exc
        if left:
            raise RollbackFailed(step.name, f"rule {rule_id} is still listed by {service}")
        injection.rollback = (
            f"rule {rule_id} removed from {service}" if gone else f"rule {rule_id} had expired"
        )
