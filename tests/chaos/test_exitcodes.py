from typing import cast

from chaos.exitcodes import ExitCode, interrupted_by
from chaos.runtime.errors import InvalidStack, RuntimeFailure, UnknownService


def test_exit_codes_are_the_documented_statuses() -> None:
    assert [(code.name, int(code)) for code in ExitCode] == [
        ("HELD", 0),
        ("DEVIATED", 1),
        ("INVALID_INPUT", 2),
        ("STEADY_STATE_NOT_MET", 3),
        ("ABORTED", 4),
        ("INFRASTRUCTURE_FAILED", 5),
        ("INTERRUPTED", 130),
    ]
    # OK is an alias of HELD, which mypy takes for two distinct members
    assert cast(object, ExitCode.OK) is ExitCode.HELD


def test_an_interruption_exits_128_plus_the_signal() -> None:
    assert (interrupted_by(2), interrupted_by(15)) == (ExitCode.INTERRUPTED, 143)


def test_runtime_failures_are_infrastructure_failures_unless_the_input_was_wrong() -> None:
    assert RuntimeFailure.exit_code == ExitCode.INFRASTRUCTURE_FAILED
    assert InvalidStack.exit_code == UnknownService.exit_code == ExitCode.INVALID_INPUT
