"""The exit statuses of every `chaosbed` command, defined once.

=====  ======================  ===============================================
code   name                    meaning
=====  ======================  ===============================================
0      HELD (alias OK)         the hypothesis held; for other commands: done
1      DEVIATED                the hypothesis did not hold
2      INVALID_INPUT           bad arguments, an invalid experiment or stack
3      STEADY_STATE_NOT_MET    steady state did not hold before any fault:
                               nothing was injected
4      ABORTED                 an abort condition stopped the experiment
5      INFRASTRUCTURE_FAILED   Docker unreachable, a busy port, a service
                               that never became ready, a failed build
130    INTERRUPTED             Ctrl-C (SIGINT); 143 for SIGTERM (128 + signal)
=====  ======================  ===============================================
"""

from __future__ import annotations

import enum

__all__ = ["ExitCode", "interrupted_by"]


class ExitCode(enum.IntEnum):
    HELD = 0
    OK = 0  # the same status, for commands that test no hypothesis
    DEVIATED = 1
    INVALID_INPUT = 2
    STEADY_STATE_NOT_MET = 3
    ABORTED = 4
    INFRASTRUCTURE_FAILED = 5
    INTERRUPTED = 130


def interrupted_by(signum: int) -> int:
    """The status of a command stopped by signal `signum`: 128 + its number, as shells report."""
    return 128 + signum
