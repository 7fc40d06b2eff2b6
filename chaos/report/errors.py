"""Every error the report package raises, under one base class.

ReportError             (a chaos.errors.ChaosbedError; exit 2)
└── JournalUnreadable   the journal is missing, not JSON, or not a journal
"""

from __future__ import annotations

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

__all__ = ["JournalUnreadable", "ReportError"]


class ReportError(ChaosbedError):
    """A report could not be made."""

    exit_code = ExitCode.INVALID_INPUT


class JournalUnreadable(ReportError):
    """The input is not a journal this version can render; the message names the field."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem
