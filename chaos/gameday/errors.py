"""Every error the game day package raises, under one base class.

GameDayError         (a chaos.errors.ChaosbedError) a game day could not be played (exit 5)
└── GameDayInvalid   the file is not a valid game day (names file and field; exit 2)
"""

from __future__ import annotations

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

__all__ = ["GameDayError", "GameDayInvalid"]


class GameDayError(ChaosbedError):
    """A game day could not be read or played."""

    exit_code = ExitCode.INFRASTRUCTURE_FAILED


class GameDayInvalid(GameDayError):
    """Every problem found in a game day file, each naming its field."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + f"\n{source}: ".join(problems))
        self.source = source
        self.problems = problems
