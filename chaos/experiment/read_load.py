"""Reading `load`: the open-loop member traffic that runs through the experiment."""

from __future__ import annotations

from collections.abc import Mapping

from . import limits
from .document import Node
from .fields import Fields, Problems, nearest
from .model import JOURNEYS, LoadSpec

__all__ = ["DEFAULT_MIX", "read_load"]

DEFAULT_MIX: Mapping[str, float] = {
    "homepage": 60.0,
    "play": 25.0,
    "title": 10.0,
    "preferences": 5.0,
}
LOAD_KEYS = (
    "rate",
    "mix",
    "experiment_percent",
    "control_percent",
    "members",
    "timeout",
    "seed",
)
MAX_WEIGHT = 1_000_000.0


def read_load(node: Node, problems: Problems) -> LoadSpec | None:
    values = problems.mapping(node, "the load")
    if values is None:
        return None
    fields = Fields(node, values, problems, LOAD_KEYS)
    rate_node = fields.require("rate", "member arrivals per second, more than 0 up to 1000")
    rate = None if rate_node is None else problems.number(rate_node, *limits.LOAD_RATE, above=True)
    mix_node = fields.get("mix")
    mix = dict(DEFAULT_MIX) if mix_node is None else _read_mix(mix_node, problems)
    share_node = fields.get("experiment_percent")
    share = 100.0 if share_node is None else problems.percent(share_node)
    control_node = fields.get("control_percent")
    control = None if control_node is None else problems.percent(control_node)
    if control is not None and share is not None and share + control > 100:
        assert control_node is not None
        problems.at(
            control_node,
            f"experiment_percent {share:g} and control_percent {control:g} add up to more than 100",
        )
        return None
    members_node = fields.get("members")
    members = 1000 if members_node is None else problems.integer(members_node, *limits.LOAD_MEMBERS)
    timeout_node = fields.get("timeout")
    timeout = 2.0 if timeout_node is None else problems.duration(timeout_node, *limits.LOAD_TIMEOUT)
    seed_node = fields.get("seed")
    seed = None
    if seed_node is not None and seed_node.value is not None:
        seed = problems.integer(seed_node, *limits.SEED)
        if seed is None:
            return None
    if rate is None or mix is None or share is None or members is None or timeout is None:
        return None
    if control_node is not None and control is None:
        return None
    return LoadSpec(
        rate=rate,
        mix=mix,
        experiment_percent=share,
        control_percent=control,
        members=members,
        timeout=timeout,
        seed=seed,
    )


def _read_mix(node: Node, problems: Problems) -> dict[str, float] | None:
    values = problems.mapping(node, "the journey mix (journey: weight)")
    if values is None:
        return None
    mix: dict[str, float] = {}
    ok = True
    for journey, weight_node in values.items():
        if journey not in JOURNEYS:
            line = node.key_lines.get(journey, weight_node.line)
            known = ", ".join(JOURNEYS)
            problems.add(
                line,
                weight_node.path,
                f"not a journey{nearest(journey, JOURNEYS)} (journeys: {known})",
            )
            ok = False
            continue
        weight = problems.number(weight_node, 0, MAX_WEIGHT)
        if weight is None:
            ok = False
        else:
            mix[journey] = weight
    if ok and not any(mix.values()):
        problems.at(node, "expected at least one journey with a weight above 0")
        return None
    return mix if ok else None
