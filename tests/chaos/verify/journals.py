"""A run's journal as the runner writes it, for tests that play acts without a stack."""

from __future__ import annotations

from pathlib import Path

from chaos.gameday import Act
from chaos.runner import Journal


def write_journal(path: Path, act: Act, verdict: str, reasons: list[str]) -> None:
    journal = Journal(act.name, {"title": act.experiment.title, "steady_state": {"slos": []}})
    journal.context.update(runtime="process", predicts=act.experiment.predicts)
    journal.verdict, journal.reasons = verdict, reasons
    journal.write(path)
