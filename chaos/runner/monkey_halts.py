"""Judging `monkey_halts`: the guarded monkey step halted itself soon after another
step's fault began, and injected nothing while halted.

The evidence is the monkey's own journal, relayed into its injection's events
(`monkey_halted`, `monkey_injected`, `monkey_resumed`, each with its wall-clock
`at`), set against when the named step began injecting on the runner's clock.
A monkey that never halted, halted before the step began (something else
burned), or acted while halted does not meet it; a step that never began
leaves nothing to judge, which does not meet it either.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chaos.experiment.describe import describe_expectation
from chaos.experiment.model import MonkeyHalts
from chaos.faults.base import Injection

from .expectations import ExpectationResult

__all__ = ["monkey_halted"]


def _wall(event: dict[str, Any]) -> float | None:
    at = event.get("at")
    return datetime.fromisoformat(at).timestamp() if isinstance(at, str) else None


def monkey_halted(
    expectation: MonkeyHalts, injections: Sequence[Injection], offset: float
) -> ExpectationResult:
    """`offset` turns the runner's monotonic times into wall-clock ones (wall - now)."""
    name = describe_expectation(expectation)
    after = next((i for i in injections if i.step == expectation.after), None)
    began = None if after is None else after.began_at or after.injected_at
    if began is None:
        return ExpectationResult(name, False, f"step {expectation.after!r} never began")
    began_wall = began + offset
    monkeys = [i for i in injections if i.layer == "monkey"]
    events = [e for i in monkeys for e in i.events]
    halts = [e for e in events if e["event"] == "monkey_halted"]
    if not halts:
        acted = sum(e["event"] == "monkey_injected" for e in events)
        return ExpectationResult(name, False, f"the monkey never halted ({acted} actions injected)")
    first = halts[0]
    halted_wall = _wall(first)
    if halted_wall is None:
        return ExpectationResult(name, False, "the monkey's halt has no time")
    after_s = halted_wall - began_wall
    why = "; ".join(str(w) for w in first.get("why", ())) or "no reason given"
    if after_s < 0:
        early = f"the monkey halted {-after_s:.1f}s before {expectation.after!r} began"
        return ExpectationResult(name, False, f"{early}: {why}")
    halted = False
    acted_while_halted = 0
    for event in events:
        if event["event"] == "monkey_halted":
            halted = True
        elif event["event"] == "monkey_resumed":
            halted = False
        elif event["event"] == "monkey_injected" and halted:
            acted_while_halted += 1
    resumed = any(e["event"] == "monkey_resumed" for e in events)
    measured = (
        f"halted {after_s:.1f}s after {expectation.after!r} began ({why}); "
        f"{acted_while_halted} actions injected while halted"
        + ("; resumed after the calm" if resumed else "; still halted at the step's end")
    )
    return ExpectationResult(
        name, after_s <= expectation.within and acted_while_halted == 0, measured
    )
