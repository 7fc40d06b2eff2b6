"""Application-layer faults through the services' control API.

An edge fault (`recommendations -> profiles`) is a client-side rule in the
caller; a target fault is a server-side rule in the target, on one route or
every route (`*`). Every rule carries its step's tag (the run's tag, then
``/`` and the step: `step_tag`) and a TTL no longer than what is left of the
step plus a small margin, so a runner killed outright leaves nothing behind
for long, and a rollback that never learnt its rule's id removes its own
step's rules and no other step's.

A rule lives in its service's memory: a service that restarts forgets it.
While the step runs the driver looks about once a second (`recheck`) that
its rule is still listed, keeps the rule's `matched` count, and re-injects a
rule lost before its TTL ran out (noted as ``reinjected``; what the lost
rule had matched still counts). At the step's end (`confirm_effect`) the
rule must still be listed, or the step fails naming the service that
restarted; and the rule must have matched requests, or the step fails: a
rule that matched nothing (``percent: 0``, a cohort without traffic, a route
no journey calls) tested nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaos.experiment import limits
from chaos.experiment.model import AppFault, Step
from chaos.slo import SliReader

from .base import Injection
from .control_client import ControlApiError, ControlClient
from .errors import InjectionFailed, NoEffect, NotVerified, RollbackFailed

log = logging.getLogger(__name__)
RECHECK_S = 1.0
#: How many times a step's rule count is asked for at its end, FINAL_LOOK_PAUSE_S apart.
FINAL_LOOKS = 3
FINAL_LOOK_PAUSE_S = 0.5

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
    if fault.kind == "corrupt":
        rule["message"] = fault.message
    if fault.edge is not None:
        rule["edge"] = str(fault.edge)
        return fault.edge.caller, rule
    assert fault.target is not None
    rule["route"] = fault.route or "*"
    if fault.method:
        rule["method"] = fault.method
    return fault.target, rule


@dataclass
class _Watch:
    """One injected rule while its step runs."""

    service: str
    tag: str
    rule: dict[str, Any]
    rule_id: str
    alive_until: float  # driver clock: before this, the rule cannot have expired
    matched: dict[str, int] = field(default_factory=dict)  # rule id -> count last seen
    task: asyncio.Task[None] | None = None

    def lost_early(self, now: float) -> bool:
        return now < self.alive_until


class AppFaultDriver:
    layer = "application"

    def __init__(
        self,
        client: ControlClient,
        tag: str,
        *,
        recheck: float = RECHECK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._tag = tag
        self._recheck = recheck
        self._clock = clock
        self._watches: dict[int, _Watch] = {}  # by id() of the Injection

    def accepts(self, step: Step) -> bool:
        return isinstance(step.fault, AppFault)

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None:
        assert isinstance(step.fault, AppFault)
        service, rule = rule_for(step.fault, tag=step_tag(self._tag, step.name), ttl=ttl)
        injection.handle["service"] = service
        asked = self._clock()
        try:
            added = await self._client.add(service, rule)
        except ControlApiError as exc:
            raise InjectionFailed(step.name, str(exc)) from exc
        injection.handle["rule_id"] = added["id"]
        injection.handle["rule"] = rule
        self._watches[id(injection)] = _Watch(
            service,
            step_tag(self._tag, step.name),
            rule,
            str(added["id"]),
            alive_until=asked + float(rule["ttl_s"]),
            matched={str(added["id"]): 0},
        )

    async def verify(self, step: Step, injection: Injection) -> None:
        service, rule_id = injection.handle["service"], injection.handle.get("rule_id")
        try:
            listed = await self._client.list(service, step_tag(self._tag, step.name))
        except ControlApiError as exc:
            raise NotVerified(step.name, str(exc)) from exc
        if not any(r.get("id") == rule_id for r in listed):
            raise NotVerified(step.name, f"rule {rule_id} is not listed by {service}")
        injection.verification = f"rule {rule_id} listed by {service}"
        watch = self._watches.get(id(injection))
        if watch is not None and watch.task is None and self._recheck > 0:
            watch.task = asyncio.create_task(
                self._watch(step, injection, watch), name=f"rule-watch:{step.name}"
            )

    # -- while the step runs ------------------------------------------------------

    async def _watch(self, step: Step, injection: Injection, watch: _Watch) -> None:
        while True:
            await asyncio.sleep(self._recheck)
            try:
                await self._recheck_once(injection, watch)
            except ControlApiError as exc:  # the service may be restarting: look again
                log.debug("step %s: %s", step.name, exc)

    async def _recheck_once(self, injection: Injection, watch: _Watch) -> None:
        """Note the rule's count, or re-inject it when its service lost it early."""
        listed = self._listed(await self._client.list(watch.service, watch.tag), watch)
        injection.handle["matched"] = sum(watch.matched.values())
        if listed:
            return
        left = watch.alive_until - self._clock()
        if left <= 0:
            return  # expired by its TTL: not lost
        rule = {**watch.rule, "ttl_s": round(min(limits.RULE_TTL_MAX, max(1.0, left)), 3)}
        added = await self._client.add(watch.service, rule)
        lost, watch.rule_id = watch.rule_id, str(added["id"])
        watch.matched[watch.rule_id] = 0
        injection.handle["rule_id"] = watch.rule_id
        injection.handle.setdefault("reinjected", []).append(watch.rule_id)
        injection.note(
            "reinjected",
            step=injection.step,
            service=watch.service,
            lost=lost,
            lost_matched=watch.matched[lost],
            rule_id=watch.rule_id,
            why=f"{watch.service} no longer listed rule {lost} (it restarted)",
        )

    @staticmethod
    def _listed(listed: list[dict[str, Any]], watch: _Watch) -> bool:
        for rule in listed:
            if rule.get("id") == watch.rule_id:
                watch.matched[watch.rule_id] = int(rule.get("matched", 0))
                return True
        return False

    async def _stop_watch(self, injection: Injection) -> _Watch | None:
        watch = self._watches.get(id(injection))
        if watch is not None and watch.task is not None:
            watch.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch.task
            watch.task = None
        return watch

    # -- at the step's end -----------------------------------------------------

    async def _final_look(self, step: Step, watch: _Watch) -> list[dict[str, Any]]:
        """The step's rules as its service lists them, asked up to FINAL_LOOKS times: a
        service swamped by the fault's own effect (a retry storm at a hung catalog, on
        a busy machine) can answer its control API after the client's timeout, and the
        count is what verifies the step. Still unanswered, the step is not verified."""
        failed: ControlApiError | None = None
        for look in range(FINAL_LOOKS):
            if look:
                await asyncio.sleep(FINAL_LOOK_PAUSE_S)
            try:
                return await self._client.list(watch.service, watch.tag)
            except ControlApiError as exc:
                failed = exc
        raise NotVerified(
            step.name, f"could not read its rule's count ({FINAL_LOOKS} tries): {failed}"
        ) from failed

    async def matched(self, step: Step, injection: Injection) -> int:
        """The requests the step's rule matched, its lost incarnations included;
        `NoEffect` when the rule is gone before its TTL ran out (its service
        restarted since the last look)."""
        watch = await self._stop_watch(injection)
        if watch is None:
            raise NotVerified(step.name, "no rule of this step was injected")
        listed = await self._final_look(step, watch)
        if not self._listed(listed, watch) and watch.lost_early(self._clock()):
            raise NoEffect(
                step.name,
                f"its rule {watch.rule_id} on {watch.service} was lost before its TTL ran "
                f"out: {watch.service} restarted during the step",
            )
        total = sum(watch.matched.values())
        injection.handle["matched"] = total
        return total

    async def confirm_effect(
        self, step: Step, injection: Injection, reader: SliReader, since: float
    ) -> None:
        """The rule matched requests (the SLI backend is not needed: the service counts)."""
        total = await self.matched(step, injection)
        service = injection.handle["service"]
        if total == 0:
            lasted = time.time() - since
            raise NoEffect(step.name, f"its rule on {service} matched no request in {lasted:.0f}s")
        injection.effect = f"its rule on {service} matched {total} request(s)"

    async def rollback(self, step: Step, injection: Injection) -> None:
        watch = await self._stop_watch(injection)
        self._watches.pop(id(injection), None)
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
        if gone:
            injection.rollback = f"rule {rule_id} removed from {service}"
        elif watch is not None and watch.lost_early(self._clock()):
            injection.rollback = (
                f"rule {rule_id} was gone before its TTL ran out ({service} restarted): "
                "nothing to remove"
            )
        else:
            injection.rollback = f"rule {rule_id} had expired"
