"""Every error the game day package raises, under one base class.

GameDayError
└── GameDayInvalid   the file is not a valid game day (names file and field)
"""

from __future__ import annotations

__all__ = ["GameDayError", "GameDayInvalid"]


class GameDayError(Exception):
    """A game day could not be read or played."""


class GameDayInvalid(GameDayError):
    """Every problem found in a game day file, each naming its field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + f"\n{source}: ".join(problems))
        self.source = source
        self.problems = problems
