"""Cohorts: a stable hash of the member id puts the chosen share in `experiment`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.load import cohort_of

MEMBERS = [f"m-{i}" for i in range(10_000)]


@pytest.mark.parametrize("percent", [1.0, 10.0, 30.0, 50.0, 90.0])
def test_share_of_members_in_the_experiment_is_near_the_percentage(percent: float) -> None:
    share = sum(cohort_of(m, percent) == "experiment" for m in MEMBERS) / len(MEMBERS)
    assert share * 100 == pytest.approx(percent, abs=1.5)


def test_zero_percent_is_nobody_and_a_hundred_is_everybody() -> None:
    assert {cohort_of(m, 0.0) for m in MEMBERS} == {"control"}
    assert {cohort_of(m, 100.0) for m in MEMBERS} == {"experiment"}


@given(st.text(max_size=20), st.floats(0, 100), st.floats(0, 100))
def test_raising_the_percentage_only_adds_members_to_the_experiment(
    member: str, low: float, high: float
) -> None:
    low, high = min(low, high), max(low, high)
    if cohort_of(member, low) == "experiment":
        assert cohort_of(member, high) == "experiment"


def test_cohorts_are_the_same_in_another_process_with_another_hash_seed() -> None:
    here = [cohort_of(m, 50.0) for m in MEMBERS[:500]]
    script = (
        "import json; from chaos.load import cohort_of; "
        "print(json.dumps([cohort_of(f'm-{i}', 50.0) for i in range(500)]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == here
