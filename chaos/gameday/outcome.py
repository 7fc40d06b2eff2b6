"""What a played experiment came to, and the exit status of a game day or a suite.

An experiment *passes* when its verdict is the one it predicts (`predicts:
held`, the default, or `predicts: deviated` for an experiment that shows a
weakness on purpose). A game day or a `chaosbed verify` run exits 0 when
every experiment passed; otherwise with the status of the most serious
failure: the exit status of its verdict (chaos.runner.verdict: 5 the
infrastructure failed, 4 aborted, 3 steady state not met), at least 1 (a
verdict other than the prediction: `held` where `deviated` was predicted is 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.exitcodes import ExitCode
from chaos.runner.verdict import EXIT_CODES, Verdict

__all__ = ["ActResult", "suite_exit_code"]

_VERDICTS = {verdict.value: verdict for verdict in Verdict}


@dataclass(frozen=True)
class ActResult:
    name: str
    title: str
    source: str
    predicts: str
    verdict: str
    reasons: tuple[str, ...]
    journal_path: Path
    journal: Mapping[str, Any] = field(repr=False)
    notes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of_journal(
        cls, name: str, path: Path, journal: Mapping[str, Any], source: str = ""
    ) -> ActResult:
        """The result a run's journal at `path` records (its title, source, prediction,
        verdict and reasons), under `name`; `source` when the journal names none."""
        experiment = journal.get("experiment") or {}
        context = journal.get("context") or {}
        return cls(
            name=name,
            title=str(experiment.get("title", "")),
            source=str(context.get("source") or source or path),
            predicts=str(context.get("predicts") or "held"),
            verdict=str(journal.get("verdict")),
            reasons=tuple(str(r) for r in journal.get("reasons") or []),
            journal_path=path,
            journal=journal,
        )

    @property
    def why(self) -> str:
        """The reasons, or what a verdict with none means."""
        if self.reasons:
            return "; ".join(self.reasons)
        if "chaosbed_exploration" in self.journal:
            return "every execution met the contract"
        return "every SLO and expectation held"

    @property
    def passed(self) -> bool:
        return self.verdict == self.predicts

    @property
    def exit_code(self) -> int:
        if self.passed:
            return ExitCode.OK
        verdict = _VERDICTS.get(self.verdict)
        code = EXIT_CODES[verdict] if verdict is not None else ExitCode.DEVIATED
        return int(max(code, ExitCode.DEVIATED))


def suite_exit_code(results: Sequence[ActResult]) -> int:
    return max((r.exit_code for r in results), default=int(ExitCode.OK))
