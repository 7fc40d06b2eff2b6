"""Reading `method`: the steps, their names and when each one runs.

A step without `offset` starts when the previous step ends (in sequence); a
step with `offset` starts that long after the method starts, so steps may
overlap. A step without `name` is called `<position>-<fault>` (`2-latency`),
which no written name can be (written names start with a letter).
"""

from __future__ import annotations

from . import limits
from .document import Node
from .durations import format_duration
from .fields import Problems
from .model import AppFault, NetworkFault, Step
from .read_faults import read_fault

__all__ = ["read_method"]


def read_method(node: Node, problems: Problems) -> tuple[Step, ...] | None:
    items = problems.items(node, "steps")
    if items is None:
        return None
    if not items:
        problems.at(node, "expected at least one step")
        return None
    steps: list[Step | None] = []
    names: dict[str, int] = {}
    previous_end: float | None = 0.0
    for index, item in enumerate(items):
        step = _read_step(index, item, previous_end, problems)
        steps.append(step)
        previous_end = None if step is None else step.offset + step.duration
        if step is None:
            continue
        if step.name in names:
            first = f"{node.path}[{names[step.name]}]"
            name_node = item.mapping["name"] if item.mapping and "name" in item.mapping else item
            problems.at(name_node, f"{step.name!r} is already the name of {first}")
        else:
            names[step.name] = index
    if any(step is None for step in steps):
        return None
    return tuple(step for step in steps if step is not None)


def _read_step(
    index: int, node: Node, previous_end: float | None, problems: Problems
) -> Step | None:
    values = problems.mapping(node, "a step (fault: ..., duration: ...)")
    if values is None:
        return None
    fault = read_fault(node, values, problems)
    name_node = values.get("name")
    name = None if name_node is None else problems.name(name_node)
    duration_node = values.get("duration")
    if duration_node is None:
        problems.add(
            node.line, f"{node.path}.duration", "is required: how long the fault lasts, like 20s"
        )
        duration = None
    else:
        duration = problems.duration(duration_node, *limits.STEP_DURATION)
    offset_node = values.get("offset")
    offset = previous_end if offset_node is None else problems.duration(offset_node, *limits.OFFSET)
    if offset is not None and duration is not None and offset + duration > limits.MAX_METHOD:
        where = duration_node if offset_node is None else offset_node
        assert where is not None
        problems.at(
            where,
            f"the step would end {format_duration(offset + duration)} after the method starts; "
            f"every step must end within {format_duration(limits.MAX_METHOD)}",
        )
        return None
    rule_based = isinstance(fault, AppFault) or (
        isinstance(fault, NetworkFault) and fault.standin_allowed
    )
    if rule_based and duration is not None and duration > limits.RULE_STEP_DURATION:
        assert duration_node is not None
        problems.at(
            duration_node,
            f"an application-layer fault (or stand-in) lasts at most "
            f"{format_duration(limits.RULE_STEP_DURATION)}: its rule's TTL (duration + "
            f"{limits.RULE_TTL_MARGIN:g}s) must stay within the services' cap of "
            f"{format_duration(limits.RULE_TTL_MAX)}, or the rule would expire mid-step",
        )
        return None
    if (
        fault is None
        or duration is None
        or offset is None
        or (name_node is not None and name is None)
    ):
        return None
    kind = values["fault"].value
    return Step(name=name or f"{index + 1}-{kind}", fault=fault, offset=offset, duration=duration)
