"""What a played experiment came to, and a suite's exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.exitcodes import ExitCode
from chaos.gameday.outcome import ActResult, suite_exit_code


def act(verdict: str, predicts: str = "held") -> ActResult:
    return ActResult(
        name=verdict,
        title="t",
        source="e.yaml",
        predicts=predicts,
        verdict=verdict,
        reasons=(),
        journal_path=Path("j.json"),
        journal={},
    )


@pytest.mark.parametrize(
    ("verdict", "predicts", "status"),
    [
        ("held", "held", ExitCode.OK),
        ("deviated", "deviated", ExitCode.OK),
        ("deviated", "held", ExitCode.DEVIATED),
        ("held", "deviated", ExitCode.DEVIATED),  # a weakness shown on purpose went missing
        ("not_steady", "held", ExitCode.STEADY_STATE_NOT_MET),
        ("aborted", "deviated", ExitCode.ABORTED),
        ("failed", "held", ExitCode.INFRASTRUCTURE_FAILED),
        ("garbled", "held", ExitCode.DEVIATED),
    ],
)
def test_an_act_exits_0_as_predicted_else_with_its_verdicts_status_at_least_1(
    verdict: str, predicts: str, status: int
) -> None:
    assert act(verdict, predicts).exit_code == status


def test_a_suite_exits_with_its_most_serious_failure() -> None:
    assert suite_exit_code([]) == ExitCode.OK
    assert suite_exit_code([act("held"), act("deviated")]) == ExitCode.DEVIATED
    played = [act("deviated"), act("failed"), act("aborted"), act("not_steady")]
    assert suite_exit_code(played) == ExitCode.INFRASTRUCTURE_FAILED
