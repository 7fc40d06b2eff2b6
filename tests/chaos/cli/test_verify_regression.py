"""`chaosbed verify` catches a resilience regression: with playback's retries
to catalog switched off (`CHAOSBED_CATALOG_ATTEMPTS=1`, one try, no retry),
the experiment that relies on them deviates from its prediction, the command
exits 1, and the JUnit failure names the experiment, the SLO and its value.
Needs the stack's ports free (the usual 8081-8086, 9090 and 9095, or the
block from CHAOSBED_PORT_BASE; `pytest -m e2e`)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chaos.runtime.process import ProcessRuntime
from tests.chaos.command import chaosbed

pytestmark = pytest.mark.e2e

EXPERIMENT = (
    Path(__file__).parents[3] / "chaos/experiments/playback-catalog-errors-within-budget.yaml"
)


def test_verify_fails_naming_the_experiment_and_the_slo_when_retries_are_off(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    retries_off = {**os.environ, "CHAOSBED_CATALOG_ATTEMPTS": "1"}
    assert chaosbed("up", "--state-dir", str(state), env=retries_off).returncode == 0
    try:
        junit = tmp_path / "junit.xml"
        done = chaosbed(
            "verify", str(EXPERIMENT), "--junit", str(junit),
            "--state-dir", str(state), "--out", str(tmp_path / "out"),
        )  # fmt: skip
    finally:
        ProcessRuntime(state).down()
    assert done.returncode == 1, done.stdout
    assert f"junit: {junit}" in done.stdout and "report: " in done.stdout
    case = ET.parse(junit).getroot().find("testcase")
    assert case is not None and case.get("name") == "playback-catalog-errors-within-budget"
    failure = case.find("failure")
    assert failure is not None, ET.tostring(case)
    message = failure.get("message", "")
    assert "predicted held, but the hypothesis deviated" in message
    assert "SLO play-ok did not hold during the method (worst " in message
