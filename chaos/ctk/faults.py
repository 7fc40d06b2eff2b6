"""Injecting one fault for a CTK activity, and rolling back what activities injected.

A fault is a chaosbed method step (`{fault: latency, target: catalog, delay: 300ms,
duration: 20s}`), read by the experiment loader's own step reader, so it is refused
for the same reasons, with the same messages, as in an experiment file. It is
injected and verified by the driver `chaosbed run` uses for its layer, with the same
TTL (application rules and docker network rules end by themselves after the step's
duration plus a margin), then recorded in the stack's ledger until `remove` rolls it
back. A fault that cannot be injected or verified is rolled back at once: an
activity never leaves half a fault.
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
from chaos.faults.control_client import ControlClient
from chaos.faults.errors import FaultError
from chaos.faults.network import NetworkFaultDriver
from chaos.faults.process import ProcessFaultDriver
from chaos.runner.wiring import RUN_TAG_PREFIX
from chaos.runtime.interface import Runtime

from .ledger import Entry, Ledger
from .stack import ActivityError, Stack

__all__ = ["CTK_TAG_PREFIX", "inject", "read_step", "remove", "rule_tag"]

#: Every rule a CTK activity adds is tagged `chaosbed-run-ctk-<tag>`: `chaosbed
#: cleanup` finds it as it finds a run's.
CTK_TAG_PREFIX = RUN_TAG_PREFIX + "ctk-"
_TAG = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


def rule_tag(tag: str) -> str:
    """The rule tag of the activities' `tag` ("" is "untagged")."""
    if tag and not _TAG.fullmatch(tag):
        raise ActivityError(
            f"tag {tag!r}: 1 to 40 letters, digits, '.', '_' or '-' (it names the faults' rules)"
        )
    return CTK_TAG_PREFIX + (tag or "untagged")


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
    token = runtime.control_token()
    if token is None:
        raise ActivityError("the stack runs with its fault control API off (no token)")
    urls = {spec.name: runtime.base_url(spec.name) for spec in runtime.services}
    async with aiohttp.ClientSession() as session:
        control = ControlClient(urls, token, session)
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
    """Inject and verify `step` on the stack, recorded under `tag`; what was done."""
    runtime = stack.runtime
    read = read_step(step)
    rules = rule_tag(tag)
    read = Step(f"{read.name}-{uuid.uuid4().hex[:6]}", read.fault, 0.0, read.duration)
    ledger = Ledger(stack.state_dir)
    ttl = read.duration + limits.RULE_TTL_MARGIN
    now = time.time()
    entry = Entry(uuid.uuid4().hex[:12], tag, dict(step), "", describe_fault(read.fault),
                  injected_at=now, expires_at=now + ttl)  # fmt: skip
    async with _drivers(runtime, rules) as drivers:
        driver = drivers.of(read)
        entry.layer = getattr(driver, "layer", "?")
        ledger.add(entry)  # first: an activity killed mid-inject leaves a record to roll back
        injection = Injection(read.name, entry.layer, entry.description)
        try:
            await driver.inject(read, injection, ttl=ttl)
            entry.handle = {"step_name": read.name, **injection.handle}
            ledger.update(entry)
            await driver.verify(read, injection)
        except FaultError as error:
            entry.handle = {"step_name": read.name, **injection.handle}
            await _roll_back(driver, read, entry)  # nothing half-done
            ledger.remove(entry.id)
            raise ActivityError(str(error)) from error
        entry.handle = {"step_name": read.name, **injection.handle}
        ledger.update(entry)
    return {
        "id": entry.id,
        "tag": tag,
        "layer": entry.layer,
        "fault": entry.description,
        "verified": injection.verification,
        "ends_by_itself_in_s": ttl if entry.layer in ("application", "network") else None,
        "handle": _plain(injection.handle),
    }


async def remove(stack: Stack, tag: str | None) -> dict[str, Any]:
    """Roll back every fault the activities recorded under `tag` (None: every tag),
    and remove any rule still carrying its tag; an ActivityError
    naming what could not be rolled back, after trying everything."""
    runtime = stack.runtime
    ledger = Ledger(stack.state_dir)
    rolled_back: list[str] = []
    failed: list[str] = []
    for entry in ledger.entries(tag):
        step = read_step(entry.step)
        step = Step(str(entry.handle.get("step_name", step.name)), step.fault, 0.0, step.duration)
        try:
            async with _drivers(runtime, rule_tag(entry.tag)) as drivers:
                how = await _roll_back(drivers.of(step), step, entry)
        except (FaultError, ActivityError) as error:
            failed.append(f"{entry.description}: {error}")
            continue
        ledger.remove(entry.id)
        rolled_back.append(f"{entry.description}: {how}")
    swept = await _sweep(runtime, tag)
    if failed:
        raise ActivityError("could not roll back: " + "; ".join(failed))
    return {"rolled_back": rolled_back, "rules_removed": swept}


async def _roll_back(driver: FaultDriver, step: Step, entry: Entry) -> str:
    handle = {k: v for k, v in entry.handle.items() if k != "step_name"}
    injection = Injection(step.name, entry.layer, entry.description, handle=handle)
    await driver.rollback(step, injection)
    return injection.rollback or "rolled back"


async def _sweep(runtime: Runtime, tag: str | None) -> int:
    """Remove every rule tagged for `tag` (None: any CTK tag) the ledger did not know
    of (an activity killed between its rule's add and its record)."""
    token = runtime.control_token()
    assert token is not None
    prefix = rule_tag(tag) if tag is not None else CTK_TAG_PREFIX
    urls = {spec.name: runtime.base_url(spec.name) for spec in runtime.services}
    removed = 0
    async with aiohttp.ClientSession() as session:
        control = ControlClient(urls, token, session)
        for service in control.services:
            for rule in await control.list(service):
                rule_tag_ = str(rule.get("tag", ""))
                if rule_tag_ == prefix or rule_tag_.startswith(prefix + ("/" if tag else "")):
                    removed += await control.remove(service, str(rule["id"]))
    return removed


def _plain(handle: Mapping[str, Any]) -> dict[str, Any]:
    """The handle as JSON (CTK writes activity outputs into its journal)."""
    return dict(json.loads(json.dumps(handle, default=str)))
