"""The SLO a CTK probe reads is written as in a chaosbed experiment and read by its
loader: a bad one is refused naming the field, and a relative objective (which needs a
steady-state baseline no probe has) is refused."""

from __future__ import annotations

import pytest

from chaos.ctk.reads import read_slo_mapping
from chaos.ctk.stack import ActivityError

OK = {"name": "ok", "availability": {"service": "catalog"}, "objective": 99, "window": "30s"}


def test_an_slo_as_in_an_experiment_is_read() -> None:
    slo = read_slo_mapping(OK)

    assert slo.name == "ok" and slo.window == 30.0
    assert slo.objective.holds(99.5) and not slo.objective.holds(98.0)


@pytest.mark.parametrize(
    ("slo", "named"),
    [
        ({**OK, "objective": 140}, "slo.objective"),
        ({**OK, "availability": {"service": "nowhere"}}, "slo.availability.service"),
        ({"name": "x", "objective": 99}, "exactly one indicator"),
        ("catalog-ok", "expected a mapping"),
    ],
)
def test_a_bad_slo_is_refused_naming_what_is_wrong(slo: object, named: str) -> None:
    with pytest.raises(ActivityError) as refused:
        read_slo_mapping(slo)  # type: ignore[arg-type]

    assert named in str(refused.value)


def test_a_relative_objective_is_refused_for_a_probe() -> None:
    relative = {"name": "ok", "availability": {"service": "catalog"},
                "max_percent_below_baseline": 2, "window": "30s"}  # fmt: skip

    with pytest.raises(ActivityError, match="relative objective needs a steady-state baseline"):
        read_slo_mapping(relative)
