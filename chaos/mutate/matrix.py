"""The mutation matrix: mutant x experiment -> caught / missed, and how it is written.

A cell comes from one played experiment (`ActResult`):

- on a mutated stack: ``caught`` when the verdict is held, deviated or
  aborted and differs from the prediction; ``missed`` when it is the
  prediction; ``not steady`` when the stack was not steady before any fault
  (nothing was injected, so nothing judged the mutant's mechanism: a busy
  machine gives it as well as a mutant), and ``error`` when the run got no
  verdict (the infrastructure failed): neither is a catch;
- on the unmutated stack: ``held`` when the verdict is the prediction;
  ``not steady`` or ``error`` as above (the experiment judged nothing, so it
  raised no alarm, yet the run fails); else ``false alarm``.

A mutant is caught when at least one of its cells is; otherwise it is
``error`` when one of its runs got no verdict, else ``not steady`` when one
was not steady (play it again: `--only NAME`), else ``missed``; a mutant no
shipped experiment covers is ``uncovered``, a hole in the library. Only
caught passes. The unmutated row is ``false alarm`` when one of its cells is,
else ``error``, else ``not steady``, else ``held``. The run passes when every
mutant is caught and every unmutated cell held.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Literal

from chaos.gameday import ActResult
from chaos.runner.verdict import Verdict

__all__ = [
    "UNMUTATED",
    "Cell",
    "Matrix",
    "MutantRow",
    "cell_of",
    "matrix_json",
    "matrix_junit",
    "matrix_table",
]

UNMUTATED = "(unmutated)"
NO_VERDICT = Verdict.FAILED.value  # what a journal says when the infrastructure failed
NOT_STEADY = Verdict.NOT_STEADY.value  # nothing injected: the mechanism not judged

Outcome = Literal["caught", "missed", "not steady", "error", "held", "false alarm"]


@dataclass(frozen=True)
class Cell:
    experiment: str
    outcome: Outcome
    predicts: str
    verdict: str
    why: str
    journal: str


@dataclass(frozen=True)
class MutantRow:
    mutant: str
    mechanism: str
    cells: tuple[Cell, ...]
    seconds: float = 0.0

    @property
    def outcome(self) -> str:
        if self.mutant == UNMUTATED:
            for outcome in ("false alarm", "error", "not steady"):
                if any(c.outcome == outcome for c in self.cells):
                    return outcome
            return "held"
        if not self.cells:
            return "uncovered"
        for outcome in ("caught", "error", "not steady"):
            if any(c.outcome == outcome for c in self.cells):
                return outcome
        return "missed"

    @property
    def ok(self) -> bool:
        return self.outcome in ("caught", "held")


@dataclass(frozen=True)
class Matrix:
    rows: tuple[MutantRow, ...]
    seconds: float
    runtime: str

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def experiments(self) -> list[str]:
        names = [cell.experiment for row in self.rows for cell in row.cells]
        return list(dict.fromkeys(names))


def cell_of(result: ActResult, *, mutated: bool) -> Cell:
    why = result.why
    outcome: Outcome
    if result.verdict == NO_VERDICT and not result.passed:
        outcome = "error"
    elif result.verdict == NOT_STEADY and not result.passed:
        outcome = "not steady"
    elif mutated:
        outcome = "missed" if result.passed else "caught"
    else:
        outcome = "held" if result.passed else "false alarm"
    return Cell(result.name, outcome, result.predicts, result.verdict, why,
                str(result.journal_path))  # fmt: skip


def matrix_json(matrix: Matrix) -> dict[str, Any]:
    return {
        "runtime": matrix.runtime,
        "passed": matrix.ok,
        "duration_s": round(matrix.seconds, 1),
        "mutants": [
            {
                "mutant": row.mutant,
                "mechanism": row.mechanism,
                "outcome": row.outcome,
                "duration_s": round(row.seconds, 1),
                "experiments": [
                    {
                        "experiment": c.experiment,
                        "outcome": c.outcome,
                        "predicts": c.predicts,
                        "verdict": c.verdict,
                        "why": c.why,
                        "journal": c.journal,
                    }
                    for c in row.cells
                ],
            }
            for row in matrix.rows
        ],
    }


def _mark(row: MutantRow, experiment: str) -> str:
    for cell in row.cells:
        if cell.experiment == experiment:
            return cell.outcome
    return ""


#: The table's last line on the unmutated row's outcome.
_UNMUTATED_SAID = {
    "held": "no false alarm",
    "false alarm": "a false alarm on the unmutated stack",
    "error": "an error on the unmutated stack",
    "not steady": "the unmutated stack not steady",
}


def matrix_table(matrix: Matrix) -> str:
    """A Markdown table: a row per mutant, a column per experiment, and the mutant's outcome."""
    experiments = matrix.experiments
    header = ["mutant", "mechanism", "outcome", *experiments]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in matrix.rows:
        marks = [_mark(row, e) for e in experiments]
        lines.append("| " + " | ".join([row.mutant, row.mechanism, row.outcome, *marks]) + " |")
    caught = sum(r.outcome == "caught" for r in matrix.rows)
    mutants = sum(r.mutant != UNMUTATED for r in matrix.rows)
    unmutated = next((r.outcome for r in matrix.rows if r.mutant == UNMUTATED), "held")
    lines.append("")
    lines.append(
        f"{caught} of {mutants} mutants caught; {_UNMUTATED_SAID[unmutated]}; "
        f"{matrix.seconds / 60:.1f} min ({matrix.runtime} runtime)"
    )
    return "\n".join(lines)


def matrix_junit(matrix: Matrix, *, name: str = "chaosbed mutate") -> bytes:
    """One testsuite; a testcase per mutant (failure: not caught) and per
    experiment on the unmutated stack (failure: a false alarm, not steady or an error)."""
    cases: list[tuple[str, str, float, str | None, str]] = []
    bad: str | None
    for row in matrix.rows:
        if row.mutant == UNMUTATED:
            for cell in row.cells:
                bad = None if cell.outcome == "held" else cell.outcome
                text = f"predicted {cell.predicts}, got {cell.verdict}: {cell.why}"
                cases.append((f"unmutated/{cell.experiment}", "chaosbed.mutate.unmutated",
                              0.0, bad, text))  # fmt: skip
            continue
        bad = None if row.ok else row.outcome
        lines = [f"{c.experiment}: {c.outcome} (predicted {c.predicts}, got {c.verdict})"
                 for c in row.cells]  # fmt: skip
        text = "\n".join(lines) or "no shipped experiment covers " + row.mechanism
        cases.append((row.mutant, "chaosbed.mutate.mutants", row.seconds, bad, text))
    suite = ET.Element("testsuite", {
        "name": name,
        "tests": str(len(cases)),
        "failures": str(sum(c[3] is not None for c in cases)),
        "errors": "0",
        "time": f"{matrix.seconds:.3f}",
    })  # fmt: skip
    for case_name, classname, seconds, bad, text in cases:
        attributes = {"name": case_name, "classname": classname, "time": f"{seconds:.3f}"}
        case = ET.SubElement(suite, "testcase", attributes)
        if bad is not None:
            ET.SubElement(case, "failure", {"message": bad, "type": bad}).text = text
    ET.indent(suite)
    return bytes(ET.tostring(suite, encoding="utf-8", xml_declaration=True))


def dumps(matrix: Matrix) -> str:
    return json.dumps(matrix_json(matrix), indent=1) + "\n"
