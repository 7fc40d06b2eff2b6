"""An exploration's verdict, in the words experiments use, and its journal."""

from __future__ import annotations

from datetime import UTC, datetime

from chaos.explore.exploration import load_exploration_text
from chaos.explore.explorer import Execution, Site
from chaos.explore.session import MAX_REASONS, Explored, exploration_journal, judge
from chaos.report.model import read_report
from chaos.runner.verdict import Verdict

SITE = Site("recommendations", "catalog", "GET", "/popular")


def execution(n: int, *, site: Site | None = SITE, violations: tuple[str, ...] = ()) -> Execution:
    return Execution(
        "homepage", f"x1-{n}", site, None if site is None else "500", 200, "ok", [], 0.01,
        list(violations),
    )  # fmt: skip


def test_every_execution_meeting_the_contract_holds() -> None:
    assert judge([execution(0, site=None), execution(1)]) == (Verdict.HELD, ())


def test_a_violation_deviates_naming_the_execution_and_its_request() -> None:
    verdict, reasons = judge([execution(0, site=None), execution(1, violations=("broke",))])
    assert verdict is Verdict.DEVIATED
    assert reasons[0] == "1 of 2 executions broke the contract"
    assert reasons[1] == (
        "homepage: recommendations -> catalog GET /popular 500 (request x1-1): broke"
    )


def test_the_reasons_name_at_most_a_dozen_and_count_the_rest() -> None:
    many = [execution(n, violations=("broke",)) for n in range(MAX_REASONS + 5)]
    verdict, reasons = judge(many)
    assert verdict is Verdict.DEVIATED and len(reasons) == 1 + MAX_REASONS + 1
    assert reasons[-1] == "... and 5 more violating executions"


def test_a_fault_free_execution_not_ok_is_not_steady_whatever_else_broke() -> None:
    unsteady = execution(0, site=None, violations=("the fault-free execution was failed:503",))
    verdict, reasons = judge([unsteady, execution(1, violations=("broke",))])
    assert verdict is Verdict.NOT_STEADY
    assert reasons == (
        "homepage: fault-free (request x1-0): the fault-free execution was failed:503",
    )


def test_the_journal_reads_back_as_a_report_and_says_why_when_nothing_ran() -> None:
    exploration = load_exploration_text(
        "title: T\nhypothesis: H\nexplore: {journeys: [homepage]}\n", "/x/t.yaml"
    )
    started = datetime(2026, 12, 4, tzinfo=UTC)
    explored = Explored("x1", (execution(0, site=None), execution(1)), 1.5, Verdict.HELD, ())
    journal = exploration_journal(exploration, "process", started, explored)
    assert journal["verdict"] == "held" and journal["violations"] == 0
    assert len(journal["executions"]) == 2 and journal["journeys"] == ["homepage"]
    (part,) = read_report(journal).explorations
    assert part.verdict == "held" and part.title == "T" and len(part.executions) == 2

    failed = exploration_journal(exploration, "process", started, None, "not ready: catalog")
    assert failed["verdict"] == "failed" and failed["reasons"] == ["not ready: catalog"]
    assert failed["executions"] == []
    stopped = exploration_journal(
        exploration, "process", started, None, "interrupted by SIGINT", Verdict.ABORTED
    )
    assert stopped["verdict"] == "aborted"
