"""Which instances a process fault lands on."""

from __future__ import annotations

import random

from chaos.experiment.model import ProcessFault
from chaos.faults.process import choose_instances
from chaos.runtime.interface import InstanceState

FLEET = [InstanceState("playback", f"playback-{n}", "running", 100 + n) for n in range(1, 6)]


def chosen(fault: ProcessFault, seed: int = 1) -> list[str]:
    return [i.instance for i in choose_instances(FLEET, fault, random.Random(seed))]


def test_every_instance_by_default() -> None:
    assert chosen(ProcessFault("kill", "playback")) == [i.instance for i in FLEET]


def test_a_count_of_instances_chosen_at_random_and_reproducibly() -> None:
    two = chosen(ProcessFault("kill", "playback", instances=2))
    assert len(two) == 2 and set(two) <= {i.instance for i in FLEET}
    assert chosen(ProcessFault("kill", "playback", instances=2)) == two  # same seed
    assert chosen(ProcessFault("kill", "playback", instances=9)) == [i.instance for i in FLEET]


def test_a_percentage_rounds_up_to_at_least_one_instance() -> None:
    assert len(chosen(ProcessFault("pause", "playback", instances_percent=30))) == 2  # 1.5 -> 2
    assert len(chosen(ProcessFault("pause", "playback", instances_percent=1))) == 1
