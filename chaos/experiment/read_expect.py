"""Reading `expect`: what must be true once the faults are rolled back and the system recovered."""

from __future__ import annotations

from . import limits
from .document import Node
from .fields import Fields, Problems
from .model import (
    BreakerClosed,
    BreakerOpened,
    BulkheadRefused,
    Expectation,
    FallbackServed,
    HistoryHolds,
    MonkeyHalts,
    RecoveredWithin,
    RetriesWithinBudget,
)
from .topology import CALLERS, FALLBACKS

__all__ = ["EXPECTATIONS", "read_expectations"]

EXPECTATIONS = (
    "breaker_opened",
    "breaker_closed",
    "bulkhead_refused",
    "fallback_served",
    "retries_within_budget",
    "recovered_within",
    "history",
    "monkey_halts",
)


def read_expectations(node: Node, problems: Problems) -> tuple[Expectation, ...] | None:
    items = problems.items(node, "expectations")
    if items is None:
        return None
    expectations = [_read_one(item, problems) for item in items]
    if any(expectation is None for expectation in expectations):
        return None
    return tuple(expectation for expectation in expectations if expectation is not None)


def _read_one(node: Node, problems: Problems) -> Expectation | None:
    values = problems.mapping(node, f"an expectation, one of: {', '.join(EXPECTATIONS)}")
    if values is None:
        return None
    fields = Fields(node, values, problems, EXPECTATIONS)
    given = [key for key in EXPECTATIONS if fields.has(key)]
    if len(given) != 1:
        if len(given) > 1:
            problems.at(
                values[given[1]], f"one expectation per item; this one already has {given[0]}"
            )
        elif not values:  # (unknown keys are already reported)
            problems.at(node, f"expected one of: {', '.join(EXPECTATIONS)}")
        return None
    kind = given[0]
    value = values[kind]
    if kind in ("breaker_opened", "breaker_closed"):
        edge = problems.edge(value)
        if edge is None:
            return None
        return BreakerOpened(edge) if kind == "breaker_opened" else BreakerClosed(edge)
    if kind == "bulkhead_refused":
        edge = problems.edge(value)
        return None if edge is None else BulkheadRefused(edge)
    if kind == "fallback_served":
        return _read_fallback(value, problems)
    if kind == "retries_within_budget":
        return _read_retries(value, problems)
    if kind == "history":
        return _read_history(value, problems)
    if kind == "monkey_halts":
        return _read_monkey_halts(value, problems)
    seconds = problems.duration(value, *limits.RECOVERED_WITHIN)
    return None if seconds is None else RecoveredWithin(seconds)


def _caller(node: Node, problems: Problems) -> str | None:
    service = problems.service(node)
    if service is not None and service not in CALLERS:
        problems.at(
            node, f"{service} calls no other service; expected one of: {', '.join(CALLERS)}"
        )
        return None
    return service


def _server_of_fallbacks(node: Node, problems: Problems) -> str | None:
    service = _caller(node, problems)
    if service is not None and service not in FALLBACKS:
        problems.at(node, f"{service} serves no fallback; expected one of: {', '.join(FALLBACKS)}")
        return None
    return service


def _read_fallback(node: Node, problems: Problems) -> FallbackServed | None:
    """`fallback_served: recommendations` or `{service: ..., fallback: ...}`."""
    if not isinstance(node.value, dict):
        service = _server_of_fallbacks(node, problems)
        return None if service is None else FallbackServed(service)
    fields = Fields(node, node.value, problems, ("service", "fallback"))
    service_node = fields.require(
        "service", f"the service that serves it, one of: {', '.join(FALLBACKS)}"
    )
    service = None if service_node is None else _server_of_fallbacks(service_node, problems)
    fallback_node = fields.get("fallback")
    fallback = None
    if fallback_node is not None and service is not None:
        fallback = problems.choice(fallback_node, FALLBACKS[service], f"a fallback of {service}:")
        if fallback is None:
            return None
    if service is None:
        return None
    return FallbackServed(service, fallback)


def _read_retries(node: Node, problems: Problems) -> RetriesWithinBudget | None:
    """`retries_within_budget: playback` or `{service: ..., ratio: 0.1}`."""
    if not isinstance(node.value, dict):
        service = _caller(node, problems)
        return None if service is None else RetriesWithinBudget(service)
    fields = Fields(node, node.value, problems, ("service", "ratio"))
    service_node = fields.require(
        "service", f"the caller whose retries count, one of: {', '.join(CALLERS)}"
    )
    service = None if service_node is None else _caller(service_node, problems)
    ratio_node = fields.get("ratio")
    ratio = 0.1 if ratio_node is None else problems.number(ratio_node, *limits.RETRY_RATIO)
    if service is None or ratio is None:
        return None
    return RetriesWithinBudget(service, ratio)


def _read_history(node: Node, problems: Problems) -> HistoryHolds | None:
    """`history: {lost: 0, partial: 0, converged_within: 5s}` (each optional)."""
    values = problems.mapping(node, "{lost: N, partial: N, converged_within: DURATION}")
    if values is None:
        return None
    fields = Fields(node, values, problems, ("lost", "partial", "converged_within"))
    lost_node, partial_node = fields.get("lost"), fields.get("partial")
    within_node = fields.get("converged_within")
    lost = 0 if lost_node is None else problems.integer(lost_node, 0, 1_000_000)
    partial = 0 if partial_node is None else problems.integer(partial_node, 0, 1_000_000)
    within = 5.0 if within_node is None else problems.duration(within_node, 0.1, 600.0)
    if lost is None or partial is None or within is None:
        return None
    return HistoryHolds(lost, partial, within)


def _read_monkey_halts(node: Node, problems: Problems) -> MonkeyHalts | None:
    """`monkey_halts: {after: STEP, within: 5s}`: the step whose fault should halt it."""
    values = problems.mapping(node, "{after: STEP, within: DURATION}")
    if values is None:
        return None
    fields = Fields(node, values, problems, ("after", "within"))
    after_node = fields.require("after", "the step (its name) whose fault should halt the monkey")
    within_node = fields.require("within", "how soon after that step starts it must halt")
    after = None if after_node is None else problems.name(after_node)
    within = None if within_node is None else problems.duration(within_node, 0.5, 600.0)
    if after is None or within is None:
        return None
    return MonkeyHalts(after, within)
