"""The runner's verdicts, their journal spellings and the exit statuses they become."""

from __future__ import annotations

import json

import chaos.experiment.model
from chaos.exitcodes import ExitCode
from chaos.runner import Outcome, Verdict


def test_each_verdict_keeps_its_journal_spelling() -> None:
    assert [v.value for v in Verdict] == ["held", "deviated", "not_steady", "aborted", "failed"]


def test_each_verdict_exits_with_its_status_from_the_one_table() -> None:
    assert {v: Outcome(v).exit_code for v in Verdict} == {
        Verdict.HELD: ExitCode.HELD,
        Verdict.DEVIATED: ExitCode.DEVIATED,
        Verdict.NOT_STEADY: ExitCode.STEADY_STATE_NOT_MET,
        Verdict.ABORTED: ExitCode.ABORTED,
        Verdict.FAILED: ExitCode.INFRASTRUCTURE_FAILED,
    }


def test_the_exit_status_a_journal_records_is_a_plain_number() -> None:
    assert json.dumps({"exit_code": Outcome(Verdict.NOT_STEADY).exit_code}) == '{"exit_code": 3}'


def test_the_experiment_model_defines_no_second_verdict() -> None:
    assert not hasattr(chaos.experiment.model, "Verdict")
