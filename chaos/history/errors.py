"""Errors of chaos.history.

HistoryError        (a chaos.errors.ChaosbedError) a history file cannot be read (names the
                    line and field; exit 2)
"""

from __future__ import annotations

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode


class HistoryError(ChaosbedError):
    """A history file or record is not usable; the message names the line and field."""

    exit_code = ExitCode.INVALID_INPUT
