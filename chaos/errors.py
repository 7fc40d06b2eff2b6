"""The one root of every error chaosbed raises on purpose, and the exit status it becomes.

    ChaosbedError                   exit_code: its `chaosbed` exit status (chaos.exitcodes)
    ├── RuntimeFailure              chaos.runtime.errors: the runtime failed (5; bad stack 2)
    ├── ExperimentError             chaos.experiment.errors: an invalid experiment file (2)
    ├── GameDayError                chaos.gameday.errors: a game day failed (5; invalid file 2)
    ├── FaultError                  chaos.faults.errors: a fault did nothing or stuck (5)
    ├── ControlApiError             chaos.faults.control_client: the control API refused (5)
    ├── SloError                    chaos.slo.errors: SLIs unreadable (5; unsupported SLO 2)
    ├── LoadError                   chaos.load.errors: the load generator failed (5; bad
    │                               setting 2)
    ├── HistoryError                chaos.history.errors: an unreadable history file (2)
    ├── ReportError                 chaos.report.errors: an unreadable journal (2)
    ├── BaselineError               chaos.mutate.baseline: no baseline directory (2)
    └── DemoError                   chaos.cli.demo: the stack did not answer the demo (5)

`chaosbed` (chaos.cli.main) turns any of them that reaches it into
`chaosbed: <message>`, then `chaosbed: hint: <hint>` when the error has one,
on stderr, and exits with its `exit_code`.
"""

from __future__ import annotations

from chaos.exitcodes import ExitCode

__all__ = ["ChaosbedError"]


class ChaosbedError(Exception):
    """Base class: chaosbed could not do what was asked; the message says what and why.

    Subclasses set `exit_code` (the CLI's exit status for them) and may set
    `hint` (what to do about it), as class attributes or per instance.
    """

    exit_code: int = ExitCode.INFRASTRUCTURE_FAILED
    hint: str | None = None
