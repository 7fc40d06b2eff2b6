"""What an exploration prints and writes besides its journal: the matrix (call site x
fault -> outcome) and JUnit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree

from services.common.fault_plans import FAULTS

from .explorer import Execution

__all__ = ["matrix_lines", "progress_line", "write_junit"]


def progress_line(execution: Execution) -> str:
    mark = "VIOLATION" if execution.violations else "ok"
    return f"[{execution.request_id}] {execution.name} -> {execution.outcome} ({mark})"


def matrix_lines(executions: Sequence[Execution]) -> list[str]:
    """Per journey, a row per call site and a column per fault; `!` marks a violation."""
    lines: list[str] = []
    for journey in dict.fromkeys(e.journey for e in executions):
        ran = [e for e in executions if e.journey == journey]
        baseline = next((e for e in ran if e.site is None), None)
        head = f"{journey}: fault-free {baseline.outcome if baseline else '?'}"
        lines.append(head + ("  !" if baseline and baseline.violations else ""))
        sites = list(dict.fromkeys(e.site for e in ran if e.site is not None))
        retried = [e for e in ran if e.first_try]
        pairs = [e for e in ran if e.also is not None]
        if not sites:
            lines.append("  (no dependency call)")
        width = max((len(str(site)) for site in sites), default=0)
        for site in sites:
            cells = []
            for fault in FAULTS:
                done = next(
                    (
                        e
                        for e in ran
                        if e.site == site and e.fault == fault and not e.first_try and not e.also
                    ),
                    None,
                )
                cell = "-" if done is None else done.outcome + ("!" if done.violations else "")
                cells.append(f"{fault}={cell}")
            lines.append(f"  {str(site):<{width}}  " + "  ".join(cells))
        if retried:
            failed = [e for e in retried if e.violations]
            lines.append(
                f"  first try only (refused, reset, hang, 500, 503 on the {len(retried) // 5}"
                f" idempotent sites): {len(retried) - len(failed)} of {len(retried)} retried"
                " away unseen" + ("  !" if failed else "")
            )
        if pairs:
            failed = [e for e in pairs if e.violations]
            lines.append(
                f"  pairs of faults: {len(pairs) - len(failed)} of {len(pairs)} met the contract"
                + ("  !" if failed else "")
            )
    return lines


def write_junit(path: Path, exploration: str, executions: Sequence[Execution]) -> None:
    """One test case per execution; a violation is a failure naming the request and its calls."""
    failures = sum(1 for e in executions if e.violations)
    suite = ElementTree.Element(
        "testsuite",
        name=f"chaosbed explore {exploration}",
        tests=str(len(executions)),
        failures=str(failures),
        time=f"{sum(e.seconds for e in executions):.3f}",
    )
    for execution in executions:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"explore.{execution.journey}",
            name=execution.name,
            time=f"{execution.seconds:.3f}",
        )
        if execution.violations:
            failure = ElementTree.SubElement(
                case, "failure", message="; ".join(execution.violations)
            )
            failure.text = (
                f"request {execution.request_id}: the member got {execution.outcome}\n"
                + json.dumps(execution.calls, indent=2)
            )
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
