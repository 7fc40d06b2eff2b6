"""Histories of profile operations, and the checker that judges them (Jepsen style).

A workload of concurrent devices (`workload.py`) records every operation as
invoked, then ok, failed or indeterminate, into a JSONL file
(`record.py`); the checker (`checker.py`) is a pure function of that history
and the replicas' final states and reports lost and partial writes,
non-monotonic and stale reads, and divergence after the heal.
"""

from .checker import CheckReport, check_history
from .errors import HistoryError
from .record import FinalStates, History, Op, load_history, save_history
from .values import expected_preferences, value_preferences, write_of

__all__ = [
    "CheckReport",
    "FinalStates",
    "History",
    "HistoryError",
    "Op",
    "check_history",
    "expected_preferences",
    "load_history",
    "save_history",
    "value_preferences",
    "write_of",
]
