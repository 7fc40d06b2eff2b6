"""Injecting one fault for a CTK activity, and rolling back what activities injected.

A fault is a chaosbed method step (`{fault: latency, target: catalog, delay: 300ms,
duration: 20s}`), read by the experiment loader's own step reader, so it is refused
for the same reasons, with the same messages, as in an experiment file. It is
injected and verified by the driver `chaosbed run` uses for its layer, with the same
TTL (application rules and docker network rules end by themselves after the step's
duration plus a margin; network rules that plus their helper's slack), recorded in the
stack's ledger until `remove` rolls it back. A fault that cannot be injected or
verified, or whose activity is cancelled, is rolled back at once from what its driver
recorded; only when that rollback fails too is it left, recorded, for `remove` or
`chaosbed cleanup`.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from chaos.experiment import limits
from chaos.experiment.describe import describe_fault
from chaos.experiment.document import parse_document
from chaos.experiment.fields import Problems
from chaos.experiment.model import Step
from chaos.experiment.read_method import read_method
from chaos.faults.app import AppFaultDriver
from chaos.faults.base import FaultDriver, Injection
from chaos.faults.control_client import ControlApiError
from chaos.faults.errors import FaultError
from chaos.faults.network import NetworkFaultDriver
from chaos.faults.network.driver import TTL_SLACK_S
from chaos.faults.process import ProcessFaultDriver
from chaos.runner.wiring import RUN_TAG_PREFIX
from chaos.runtime.interface import Runtime

from .ledger import Entry, Ledger
from .stack import ActivityError, Stack, control_of

__all__ = ["CTK_TAG_PREFIX", "inject", "read_step", "remove", "rule_prefix", "rule_tag"]

#: Every rule a CTK activity adds is tagged `chaosbed-run-ctk-<tag>`: `chaosbed
#: cleanup` finds it as it finds a run's.
CTK_TAG_PREFIX = RUN_TAG_PREFIX + "ctk-"
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
#: Faults injected with no tag carry this one: no written tag can (each starts with a
#: letter or digit).
UNTAGGED = "_none"
#: What each layer's driver records once it has changed something.
RECORDED = {"application": "service", "process": "instances", "network": "containers"}
#: A record still "injecting" this long after it was written is one whose activity
#: died mid-inject (an inject takes seconds): `remove` rolls it back.
IN_FLIGHT_S = 120.0


def rule_tag(tag: str) -> str:
    """The rule tag of the activities' `tag` ("": none given)."""
    if tag and not _TAG.fullmatch(tag):
        raise ActivityError(
            f"tag {tag!r}: 1 to 40 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit (it names the faults' rules)"
        )
    return CTK_TAG_PREFIX + (tag or UNTAGGED)


def rule_prefix(tag: str | None) -> str:
    """What the tags of the rules under `tag` (None: under any) start with."""
    return rule_tag(tag) + "/" if tag is not None else CTK_TAG_PREFIX


def read_step(step: Mapping[str, Any]) -> Step:
    """`step` as chaosbed's experiment loader reads a method step, or ActivityError
    naming every problem."""
    if not isinstance(step, Mapping):
        raise ActivityError(f"step: expected a mapping like {{fault: latency, ...}}, got {step!r}")
    node, errors = parse_document(json.dumps([dict(step)], default=str))
    problems = Problems(errors)
    steps = read_method(node, problems) if node is not None else None
    if problems.errors or not steps:
        said = "; ".join(f"{_field(e.field)}: {e.message}" for e in problems.errors)
        raise ActivityError(f"invalid step: {said or 'unreadable'}")
    (read,) = steps
    if "offset" in step:
        raise ActivityError("invalid step: step.offset: an activity injects now; CTK's pauses "
                            "say when")  # fmt: skip
    return read


def _field(path: str) -> str:
    return "step" + path.removeprefix("[0]") if path.startswith("[0]") else path or "step"


@dataclass
class _Drivers:
    drivers: Sequence[FaultDriver]

    def of(self, step: Step) -> FaultDriver:
        for driver in self.drivers:
            if driver.accepts(step):
                return driver
        kind = type(step.fault).__name__
        raise ActivityError(f"{step.name}: this stack's runtime has no driver for a {kind}")


@asynccontextmanager
async def _drivers(runtime: Runtime, tag: str) -> AsyncIterator[_Drivers]:
    async with aiohttp.ClientSession() as session:
        control = control_of(runtime, session)
        drivers: list[FaultDriver] = [
            AppFaultDriver(control, tag, recheck=0),  # no watch: the activity returns
            ProcessFaultDriver(runtime, rng=random.Random()),
        ]
        if runtime.network is not None:  # a chain name per call: never two alike
            drivers.append(
                NetworkFaultDriver(runtime.network, run_id=uuid.uuid4().hex[:8], tag=tag)
            )
        yield _Drivers(drivers)


async def inject(stack: Stack, step: Mapping[str, Any], tag: str) -> dict[str, Any]:
    """Inject and verify `step` on the stack, recorded under `tag`; what was done.

    The record is written before the driver acts and updated with what the driver
    recorded however the inject ends. One that fails, or is cancelled (Ctrl-C, CTK's
    SIGTERM), is rolled back from that record before the error goes on; when that
    rollback fails too, the record stays for `remove` or `chaosbed cleanup`."""
    runtime = stack.runtime
    read = read_step(step)
    rules = rule_tag(tag)
    name = f"{read.name}-{uuid.uuid4().hex[:6]}"  # its rules' tag: this inject's alone
    read = Step(name, read.fault, 0.0, read.duration)
    ledger = Ledger(stack.state_dir)
    ttl = read.duration + limits.RULE_TTL_MARGIN
    now = time.time()
    entry = Entry(uuid.uuid4().hex[:12], tag, dict(step), "", describe_fault(read.fault),
                  handle={"step_name": name}, injected_at=now, expires_at=now + ttl)  # fmt: skip
    async with _drivers(runtime, rules) as drivers:
        driver = drivers.of(read)
        entry.layer = getattr(driver, "layer", "?")
        ledger.add(entry)  # first: an activity killed mid-inject leaves a record
        injection = Injection(name, entry.layer, entry.description)
        try:
            try:
                await driver.inject(read, injection, ttl=ttl)
                await driver.verify(read, injection)
            finally:  # what the driver changed, however it ended
                entry.handle = {"step_name": name, **injection.handle}
                ledger.update(entry)
        except BaseException as error:  # a failure or a cancellation: nothing half-done
            said = str(error) or repr(error)
            try:
                await _roll_back(driver, read, entry)
            except BaseException as undo:  # noqa: BLE001 - said; the record stays
                raise ActivityError(
                    f"{said}; rolling it back failed too ({undo!r}): it stays recorded under "
                    f"tag {tag or '(none)'} for remove_faults or `chaosbed cleanup`"
                ) from error
            ledger.remove(entry.id)
            if isinstance(error, FaultError):
                raise ActivityError(said) from error
            raise
        entry.state = "injected"
        ledger.update(entry)
    return {
        "id": entry.id,
        "tag": tag,
        "layer": entry.layer,
        "fault": entry.description,
        "verified": injection.verification,
        "ends_by_itself_in_s": _ends_in(entry.layer, ttl),
        "handle": _plain(injection.handle),
    }


def _ends_in(layer: str, ttl: float) -> float | None:
    """When a fault of `layer` ends by itself, in seconds from now (None: it does not)."""
    if layer == "application":
        return ttl
    if layer == "network":
        return ttl + TTL_SLACK_S  # its helper waits that much longer (chaos.faults.network)
    return None


async def remove(stack: Stack, tag: str | None) -> dict[str, Any]:
    """Roll back every fault the activities recorded under `tag` (None: every tag),
    and remove any rule still carrying its tag; after trying everything, an
    ActivityError naming what could not be rolled back (a fault still being injected
    by another activity among them)."""
    runtime = stack.runtime
    ledger = Ledger(stack.state_dir)
    rolled_back: list[str] = []
    failed: list[str] = []
    for entry in ledger.entries(tag):
        if entry.state == "injecting" and time.time() - entry.injected_at < IN_FLIGHT_S:
            failed.append(f"{entry.description}: still being injected by another activity")
            continue
        try:
            how = await _roll_back_entry(runtime, entry)
        except Exception as error:  # noqa: BLE001 - said below, the others still tried
            failed.append(f"{entry.description}: {error}")
            continue
        ledger.remove(entry.id)
        rolled_back.append(f"{entry.description}: {how}")
    swept, unswept = await _sweep(runtime, tag)
    failed += unswept
    if failed:
        raise ActivityError("could not roll back: " + "; ".join(failed))
    return {"rolled_back": rolled_back, "rules_removed": swept}


async def _roll_back_entry(runtime: Runtime, entry: Entry) -> str:
    step = read_step(entry.step)
    step = Step(str(entry.handle.get("step_name", step.name)), step.fault, 0.0, step.duration)
    if RECORDED.get(entry.layer) not in entry.handle:  # killed before its driver acted
        if entry.layer == "application":  # a rule it added carries its tag: the sweep
            return "its driver recorded nothing; rules carrying its tag are removed"
        raise ActivityError(
            "its driver recorded nothing to roll back (the activity was killed mid-inject): "
            "run `chaosbed cleanup`"
        )
    async with _drivers(runtime, rule_tag(entry.tag)) as drivers:
        return await _roll_back(drivers.of(step), step, entry)


async def _roll_back(driver: FaultDriver, step: Step, entry: Entry) -> str:
    handle = {k: v for k, v in entry.handle.items() if k != "step_name"}
    injection = Injection(step.name, entry.layer, entry.description, handle=handle)
    await driver.rollback(step, injection)
    return injection.rollback or "rolled back"


async def _sweep(runtime: Runtime, tag: str | None) -> tuple[int, list[str]]:
    """Remove every rule carrying `tag` (None: any activity's tag), the ledger's or not
    (an activity killed between its rule's add and its record): (how many, what failed)."""
    prefix = rule_prefix(tag)
    removed, failed = 0, []
    async with aiohttp.ClientSession() as session:
        try:
            control = control_of(runtime, session)
        except ActivityError as error:
            return 0, [f"{error}: rules unread"]
        for service in control.services:
            try:
                for rule in await control.list(service):
                    if str(rule.get("tag", "")).startswith(prefix):
                        removed += await control.remove(service, str(rule["id"]))
            except ControlApiError as error:
                failed.append(str(error))
    return removed, failed


def _plain(handle: Mapping[str, Any]) -> dict[str, Any]:
    """The handle as JSON (CTK writes activity outputs into its journal)."""
    return dict(json.loads(json.dumps(handle, default=str)))
