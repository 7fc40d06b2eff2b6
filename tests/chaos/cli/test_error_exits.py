"""`chaosbed` turns every chaosbed error that reaches it into its message and its exit status."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from chaos.cli import RuntimeChoice, main
from chaos.cli.command import RuntimeFactory
from chaos.cli.demo import DemoError
from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode
from chaos.experiment import ExperimentError, FieldError
from chaos.faults.control_client import ControlApiError
from chaos.faults.errors import FaultError
from chaos.gameday import GameDayError, GameDayInvalid
from chaos.history.errors import HistoryError
from chaos.load.errors import InvalidLoad, LoadError
from chaos.report import JournalUnreadable, ReportError
from chaos.runtime.errors import RuntimeFailure, UnknownService
from chaos.runtime.interface import Runtime
from chaos.slo import UnsupportedIndicator
from chaos.slo.errors import SloError

#: One error of each root (and of the subclasses that change the status), with its status.
ERRORS: list[tuple[ChaosbedError, ExitCode]] = [
    (RuntimeFailure("the runtime failed"), ExitCode.INFRASTRUCTURE_FAILED),
    (UnknownService("gamma", ["alpha", "beta"]), ExitCode.INVALID_INPUT),
    (ExperimentError("x.yaml", [FieldError(3, "method", "empty")]), ExitCode.INVALID_INPUT),
    (GameDayError("the game day failed"), ExitCode.INFRASTRUCTURE_FAILED),
    (GameDayInvalid("day.yaml", ["title: missing"]), ExitCode.INVALID_INPUT),
    (FaultError("kill", "no instance noticed"), ExitCode.INFRASTRUCTURE_FAILED),
    (ControlApiError("catalog: control API unreachable"), ExitCode.INFRASTRUCTURE_FAILED),
    (SloError("Prometheus did not answer"), ExitCode.INFRASTRUCTURE_FAILED),
    (UnsupportedIndicator("errors", "no such indicator"), ExitCode.INVALID_INPUT),
    (LoadError("the load generator failed"), ExitCode.INFRASTRUCTURE_FAILED),
    (InvalidLoad("rate", "must be positive"), ExitCode.INVALID_INPUT),
    (HistoryError("line 3: not JSON"), ExitCode.INVALID_INPUT),
    (ReportError("no report"), ExitCode.INVALID_INPUT),
    (JournalUnreadable("journal.verdict", "missing"), ExitCode.INVALID_INPUT),
    (DemoError("the homepage answered 500"), ExitCode.INFRASTRUCTURE_FAILED),
]


def failing_with(error: ChaosbedError) -> RuntimeFactory:
    def make_runtime(choice: RuntimeChoice) -> Runtime:
        raise error

    return make_runtime


def run_status(tmp_path: Path, error: ChaosbedError) -> tuple[int, str]:
    err = io.StringIO()
    status = main(
        ["status", "--state-dir", str(tmp_path)],
        make_runtime=failing_with(error),
        out=io.StringIO(),
        err=err,
    )
    return status, err.getvalue()


@pytest.mark.parametrize(
    ("error", "expected"), ERRORS, ids=[type(error).__name__ for error, _ in ERRORS]
)
def test_an_error_that_reaches_main_exits_with_its_status_and_says_its_message(
    error: ChaosbedError, expected: ExitCode, tmp_path: Path
) -> None:
    status, said = run_status(tmp_path, error)
    assert status == expected
    assert said == f"chaosbed: {error}\n"


def test_an_error_with_a_hint_says_the_hint_after_the_message(tmp_path: Path) -> None:
    class Hinted(ChaosbedError):
        exit_code = ExitCode.INVALID_INPUT
        hint = "pass --port-base"

    status, said = run_status(tmp_path, Hinted("no stack there"))
    assert status == ExitCode.INVALID_INPUT
    assert said == "chaosbed: no stack there\nchaosbed: hint: pass --port-base\n"


def test_an_invalid_game_day_file_exits_2_naming_the_file(tmp_path: Path) -> None:
    day = tmp_path / "day.yaml"
    day.write_text("- not a mapping\n")
    err = io.StringIO()
    status = main(["gameday", str(day), "--state-dir", str(tmp_path)], out=io.StringIO(), err=err)
    assert status == ExitCode.INVALID_INPUT
    assert err.getvalue().startswith(f"chaosbed: {day}: ")
