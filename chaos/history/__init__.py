"""Histories of profile operations, and the checker that judges them (Jepsen style).

A workload of concurrent devices of three types (tv, mobile, web) records
every operation as invoked, then ok, failed or indeterminate, into a JSONL
file (`workload.py`, `record.py`); beside it a watch reads every replica's
versions to time the catch-up after the heal (`convergence.py`). The checker
(`checker.py`) is a pure function of the history, the fault windows and the
replicas' final states. Its rules: acknowledged means present at the end;
definitely failed (or never written) means never seen; one value per
version; no read older than what the device saw; no read older than a write
acknowledged `bound` earlier, outside a fault window; replicas caught up
within `bound` of the heal and identical at the end. Every finding names its
op ids and the device type it is blamed on; the checker's docstring defines
each one and when a history is valid.
"""

from .checker import CheckReport, Finding, check_history
from .errors import HistoryError
from .record import FinalStates, History, Op, load_history, member_outcome, save_history
from .values import expected_preferences, value_preferences, write_of

__all__ = [
    "CheckReport",
    "FinalStates",
    "Finding",
    "History",
    "HistoryError",
    "Op",
    "check_history",
    "expected_preferences",
    "load_history",
    "member_outcome",
    "save_history",
    "value_preferences",
    "write_of",
]
