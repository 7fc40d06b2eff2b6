"""What the CTK probes read from a running stack."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

from chaos.experiment.document import parse_document
from chaos.experiment.fields import Problems
from chaos.experiment.model import Slo
from chaos.experiment.read_slos import read_slo
from chaos.experiment.topology import EDGES
from chaos.history import HistoryError, check_history, load_history
from chaos.runner import wiring
from chaos.runner.breakers import BREAKER_METRIC, BREAKER_STATES
from chaos.runtime.interface import Runtime
from chaos.slo import PrometheusReader
from chaos.slo.scrape import ScrapeTarget, parse_samples

from .faults import rule_prefix
from .stack import ActivityError, control_of

__all__ = [
    "breaker_state",
    "history_holds",
    "leftovers",
    "matched",
    "read_slo_mapping",
    "rules",
    "slo_met",
    "slo_value",
]


async def rules(runtime: Runtime, tag: str | None) -> list[dict[str, Any]]:
    """The rules under `tag` (None: any activity's) each service lists, with the service."""
    prefix = rule_prefix(tag)
    found: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session:
        control = control_of(runtime, session)
        for service in control.services:
            for rule in await control.list(service):
                if str(rule.get("tag", "")).startswith(prefix):
                    found.append({"service": service, **rule})
    return found


async def matched(runtime: Runtime, tag: str | None) -> int:
    found = await rules(runtime, tag)
    if not found:
        raise ActivityError(
            f"no rule under tag {tag or '(any)'} is in place to count: none was injected "
            "yet, or it was removed or expired"
        )
    return sum(int(rule.get("matched", 0)) for rule in found)


async def leftovers(runtime: Runtime) -> list[str]:
    async with aiohttp.ClientSession() as session:
        return await wiring.leftovers(runtime, control_of(runtime, session))


def read_slo_mapping(slo: Mapping[str, Any]) -> Slo:
    """`slo` as chaosbed's loader reads one of an experiment's SLOs, or ActivityError
    naming every problem; a relative objective is refused (it needs a baseline)."""
    if not isinstance(slo, Mapping):
        raise ActivityError(
            f"slo: expected a mapping like {{name: ok, availability: ...}}, got {slo!r}"
        )
    node, errors = parse_document(json.dumps(dict(slo), default=str))
    problems = Problems(errors)
    read = read_slo(node, problems) if node is not None else None
    if problems.errors or read is None:
        said = "; ".join(f"slo{e.field and '.' + e.field}: {e.message}" for e in problems.errors)
        raise ActivityError(f"invalid SLO: {said or 'unreadable'}")
    if read.objective.relative_percent is not None:
        raise ActivityError(
            f"slo {read.name}: a relative objective needs a steady-state baseline; "
            "a probe reads an absolute one"
        )
    return read


async def slo_value(runtime: Runtime, slo: Mapping[str, Any]) -> float:
    read = read_slo_mapping(slo)
    url = runtime.prometheus_url()
    if not url:
        raise ActivityError("this stack runs no Prometheus: an SLO probe reads from it")
    async with aiohttp.ClientSession() as session:
        reader = PrometheusReader(url, session=session)
        reader.check(read)
        value = await reader.value(read)
    if value is None:
        raise ActivityError(f"slo {read.name}: no data over its {read.window:g}s window")
    return value


async def slo_met(runtime: Runtime, slo: Mapping[str, Any]) -> bool:
    return read_slo_mapping(slo).objective.holds(await slo_value(runtime, slo))


async def breaker_state(runtime: Runtime, edge: str) -> str:
    """The state of the breaker `edge` ("recommendations -> catalog") names, as its
    caller's /metrics says now: closed, open or half-open. ActivityError when the
    caller reports none."""
    caller, arrow, dependency = (part.strip() for part in edge.partition("->"))
    known = [f"{e.caller} -> {e.dependency}" for e in EDGES]
    if not arrow or f"{caller} -> {dependency}" not in known:
        raise ActivityError(f"edge {edge!r}: not an edge of the stack; one of {', '.join(known)}")
    url = runtime.base_url(caller)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            async with session.get(f"{url}/metrics") as response:
                text = await response.text()
    except (aiohttp.ClientError, TimeoutError) as error:
        raise ActivityError(f"{caller}'s metrics at {url}: {error!r}") from None
    states = [
        value
        for name, labels, value in parse_samples(text, ScrapeTarget(caller, f"{url}/metrics"))
        if name == BREAKER_METRIC and labels.get("dependency") == dependency
    ]
    if not states:
        raise ActivityError(f"no breaker state for {caller} -> {dependency} in its metrics")
    return BREAKER_STATES.get(int(max(states)), str(max(states)))


def history_holds(path: str, bound_s: float) -> bool:
    """Whether the history at `path` holds (chaosbed's Jepsen-style checker)."""
    if bound_s <= 0:
        raise ActivityError(f"bound_s: must be more than 0 seconds, got {bound_s:g}")
    try:
        history = load_history(Path(path))
    except HistoryError as error:
        raise ActivityError(f"{path}: {error}") from None
    report = check_history(history, bound_s=bound_s)
    logging.getLogger("chaostoolkit").info(
        "chaosbed: history %s: %s", "valid" if report.valid else "INVALID", report.summary()
    )
    return bool(report.valid)
