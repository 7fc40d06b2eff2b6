"""The mutation matrix: what a cell says, when a mutant counts as caught, how it is written."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from chaos.gameday import ActResult
from chaos.mutate.matrix import (
    UNMUTATED,
    Matrix,
    MutantRow,
    cell_of,
    dumps,
    matrix_junit,
    matrix_table,
)


def result(name: str, predicts: str, verdict: str) -> ActResult:
    return ActResult(name, "t", f"{name}.yaml", predicts, verdict, ("why",), Path("j.json"), {})


def test_a_verdict_other_than_the_prediction_catches_the_mutant() -> None:
    assert cell_of(result("e", "held", "deviated"), mutated=True).outcome == "caught"
    assert cell_of(result("e", "deviated", "held"), mutated=True).outcome == "caught"
    assert cell_of(result("e", "held", "aborted"), mutated=True).outcome == "caught"


def test_a_stack_not_steady_before_any_fault_is_no_catch() -> None:
    """Nothing was injected, so nothing judged the mechanism: a busy machine gives it as
    well as a mutant (a clean-clone run read homepages' p99 688 ms against 500 before
    any fault on a mutant whose mechanism is a fallback)."""
    assert cell_of(result("e", "held", "not_steady"), mutated=True).outcome == "not steady"
    alone = row("no-default-preferences", ("a", "held", "not_steady"), ("b", "held", "held"))
    assert alone.outcome == "not steady" and not alone.ok
    beside = row("no-default-preferences", ("a", "held", "not_steady"), ("b", "held", "deviated"))
    assert beside.outcome == "caught" and beside.ok
    failed = row("no-default-preferences", ("a", "held", "not_steady"), ("b", "held", "failed"))
    assert failed.outcome == "error"


def test_the_predicted_verdict_misses_it() -> None:
    assert cell_of(result("e", "held", "held"), mutated=True).outcome == "missed"


def test_a_run_without_a_verdict_is_an_error_never_a_catch() -> None:
    assert cell_of(result("e", "held", "failed"), mutated=True).outcome == "error"


def test_on_the_unmutated_stack_a_verdict_other_than_the_prediction_is_a_false_alarm() -> None:
    assert cell_of(result("e", "held", "held"), mutated=False).outcome == "held"
    assert cell_of(result("e", "held", "deviated"), mutated=False).outcome == "false alarm"


def test_on_the_unmutated_stack_not_steady_or_no_verdict_is_no_false_alarm() -> None:
    """The experiment judged nothing there (nothing was injected, or the infrastructure
    failed): the run fails, as a false alarm fails it, but what it says is not that the
    experiment is wrong about a correct stack."""
    assert cell_of(result("e", "held", "not_steady"), mutated=False).outcome == "not steady"
    assert cell_of(result("e", "held", "failed"), mutated=False).outcome == "error"
    busy = row(UNMUTATED, ("a", "held", "not_steady"), ("b", "held", "held"))
    assert busy.outcome == "not steady" and not busy.ok
    broken = row(UNMUTATED, ("a", "held", "not_steady"), ("b", "held", "failed"))
    assert broken.outcome == "error"
    alarm = row(UNMUTATED, ("a", "held", "failed"), ("b", "held", "deviated"))
    assert alarm.outcome == "false alarm"
    caught = row("no-retries", ("a", "held", "deviated"))
    matrix = Matrix((busy, caught), 60.0, "process")
    assert not matrix.ok
    assert matrix_table(matrix).splitlines()[-1] == (
        "1 of 1 mutants caught; the unmutated stack not steady; 1.0 min (process runtime)"
    )
    suite = ET.fromstring(matrix_junit(matrix))
    failures = {c.get("name"): c.find("failure") for c in suite.findall("testcase")}
    assert failures["unmutated/a"] is not None and failures["unmutated/a"].get("type") == (
        "not steady"
    )
    assert failures["unmutated/b"] is None


def row(mutant: str, *outcomes: tuple[str, str, str]) -> MutantRow:
    mutated = mutant != UNMUTATED
    return MutantRow(mutant, "m", tuple(cell_of(result(*o), mutated=mutated) for o in outcomes))


def test_a_mutant_is_caught_when_one_experiment_catches_it() -> None:
    caught = row("no-retries", ("a", "held", "held"), ("b", "held", "deviated"))
    assert caught.outcome == "caught" and caught.ok


def test_a_mutant_whose_runs_got_no_verdict_is_an_error_that_fails_the_run() -> None:
    errored = row("ack-before-commit", ("a", "held", "failed"), ("b", "held", "held"))
    assert errored.outcome == "error" and not errored.ok


def test_a_mutant_no_experiment_covers_is_uncovered_and_fails_the_run() -> None:
    uncovered = MutantRow("retry-non-idempotent", "idempotent-retries", ())
    assert uncovered.outcome == "uncovered"
    assert not Matrix((uncovered,), 1.0, "process").ok


def test_the_run_passes_only_with_every_mutant_caught_and_no_false_alarm() -> None:
    clean = row(UNMUTATED, ("a", "held", "held"))
    caught = row("no-retries", ("a", "held", "deviated"))
    missed = row("no-bulkhead", ("a", "held", "held"))
    alarm = row(UNMUTATED, ("a", "held", "deviated"))
    assert Matrix((clean, caught), 1.0, "process").ok
    assert not Matrix((clean, caught, missed), 1.0, "process").ok
    assert not Matrix((alarm, caught), 1.0, "process").ok
    assert not Matrix((), 1.0, "process").ok


def test_the_table_has_a_row_per_mutant_and_a_column_per_experiment() -> None:
    matrix = Matrix((row(UNMUTATED, ("a", "held", "held"), ("b", "held", "held")),
                     row("no-retries", ("b", "held", "deviated"))), 90.0, "process")  # fmt: skip
    lines = matrix_table(matrix).splitlines()
    assert lines[0] == "| mutant | mechanism | outcome | a | b |"
    assert lines[3] == "| no-retries | m | caught |  | caught |"
    assert lines[-1] == "1 of 1 mutants caught; no false alarm; 1.5 min (process runtime)"


def test_json_and_junit_say_the_same() -> None:
    matrix = Matrix((row(UNMUTATED, ("a", "held", "deviated")),
                     row("no-retries", ("a", "held", "held"))), 1.0, "process")  # fmt: skip
    document = json.loads(dumps(matrix))
    assert document["passed"] is False
    assert [m["outcome"] for m in document["mutants"]] == ["false alarm", "missed"]
    suite = ET.fromstring(matrix_junit(matrix))
    failed = [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None]
    assert failed == ["unmutated/a", "no-retries"]
    assert suite.get("failures") == "2"
