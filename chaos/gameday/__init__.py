"""Game days: a narrated sequence of experiments, one combined journal and report."""

from .errors import GameDayError, GameDayInvalid
from .loader import load_gameday, load_gameday_text
from .model import Act, GameDay
from .outcome import ActResult, suite_exit_code
from .play import Played, RunAct, combined_journal, journal_path, play, record, result_of
from .table import verdict_table

__all__ = [
    "Act",
    "ActResult",
    "GameDay",
    "GameDayError",
    "GameDayInvalid",
    "Played",
    "RunAct",
    "combined_journal",
    "journal_path",
    "load_gameday",
    "load_gameday_text",
    "play",
    "record",
    "result_of",
    "suite_exit_code",
    "verdict_table",
]
