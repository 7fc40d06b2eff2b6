"""Device types: a stable hash of the id puts the stated shares on tv, mobile and web."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from chaos.load import DEVICE_SHARES, DEVICE_TYPES, cohort_of, device_type_of

MEMBERS = [f"m-{i}" for i in range(10_000)]


def test_the_declared_shares_cover_every_member() -> None:
    assert DEVICE_TYPES == ("tv", "mobile", "web") and sum(DEVICE_SHARES.values()) == 100


@pytest.mark.parametrize("kind", DEVICE_TYPES)
def test_share_of_members_on_each_device_type_is_near_its_declared_share(kind: str) -> None:
    share = sum(device_type_of(m) == kind for m in MEMBERS) / len(MEMBERS)
    assert share * 100 == pytest.approx(DEVICE_SHARES[kind], abs=1.5)


def test_the_device_type_says_nothing_of_the_cohort() -> None:
    tvs = [m for m in MEMBERS if device_type_of(m) == "tv"]
    share = sum(cohort_of(m, 40.0) == "experiment" for m in tvs) / len(tvs)
    assert share == pytest.approx(0.4, abs=0.03)


def test_device_types_are_the_same_in_another_process_with_another_hash_seed() -> None:
    here = [device_type_of(m) for m in MEMBERS[:500]]
    script = (
        "import json; from chaos.load import device_type_of; "
        "print(json.dumps([device_type_of(f'm-{i}') for i in range(500)]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == here
