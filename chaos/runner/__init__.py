"""The chaos runner: one experiment's lifecycle, its journal and its verdict."""

from .journal import Journal
from .lifecycle import Runner, RunOptions
from .verdict import EXIT_CODES, Outcome, Verdict

__all__ = ["EXIT_CODES", "Journal", "Outcome", "RunOptions", "Runner", "Verdict"]
