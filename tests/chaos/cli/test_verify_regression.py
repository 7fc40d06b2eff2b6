"""`chaosbed verify` catches a resilience regression: with playback's retries
to catalog switched off (`CHAOSBED_CATALOG_ATTEMPTS=1`, one try, no retry),
the experiment that relies on them deviates from its prediction, and so does
the shipped exploration played beside it; the command exits 1, the JUnit
failures name the experiment, the SLO and its value, and the call site whose
first try was not retried, and the report holds the exploration's matrices.
Needs the stack's ports free (the usual 8081-8086, 9090 and 9095, or the
block from CHAOSBED_PORT_BASE; `pytest -m e2e`)."""

from __future__ import annotations

import json
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
EXPLORATION = Path(__file__).parents[3] / "chaos/explorations/every-call-site.yaml"


# Every stack slot: the exploration's fault-free executions are one request each, and
# in a clean-clone run beside two other stacks one timed out (not steady, exit 3).
@pytest.mark.stacks(99)
def test_verify_fails_naming_the_experiment_and_the_slo_when_retries_are_off(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    retries_off = {**os.environ, "CHAOSBED_CATALOG_ATTEMPTS": "1"}
    assert chaosbed("up", "--state-dir", str(state), env=retries_off).returncode == 0
    try:
        junit = tmp_path / "junit.xml"
        done = chaosbed(
            "verify", str(EXPERIMENT), str(EXPLORATION), "--junit", str(junit),
            "--state-dir", str(state), "--out", str(tmp_path / "out"),
        )  # fmt: skip
    finally:
        ProcessRuntime(state).down()
    assert done.returncode == 1, done.stdout
    assert f"junit: {junit}" in done.stdout and "report: " in done.stdout
    case, explored = ET.parse(junit).getroot().iter("testcase")
    assert case.get("name") == "playback-catalog-errors-within-budget"
    failure = case.find("failure")
    assert failure is not None, ET.tostring(case)
    message = failure.get("message", "")
    assert "predicted held, but the hypothesis deviated" in message
    assert "SLO play-ok did not hold during the method (worst " in message
    assert explored.get("name") == "every-call-site"
    failure = explored.find("failure")
    assert failure is not None, ET.tostring(explored)
    assert "executions broke the contract" in failure.get("message", "")
    combined = json.loads((tmp_path / "out" / "gameday.json").read_text())
    executions = combined["experiments"][1]["journal"]["executions"]
    broken = {v for e in executions for v in e["violations"]}
    for site in ("playback -> catalog GET /titles/{id}", "recommendations -> catalog GET /popular"):
        assert f"{site}: its first try failed and it was not retried" in broken, broken
    report = (tmp_path / "out" / "report.html").read_text()
    # the first tries not retried are not matrix cells: the summary under the matrix
    # marks them, and each is a row of the violations table
    assert 'class="exploration"' in report and "<h3>Violations</h3>" in report
    assert "it must be retried away, unseen" in report
