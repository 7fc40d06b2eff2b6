"""Errors of chaos.history.

HistoryError        a history file cannot be read (names the line and field)
"""

from __future__ import annotations


class HistoryError(Exception):
    """A history file or record is not usable; the message names the line and field."""
