"""The suite's results as JUnit XML, the shape CI servers read (Jenkins, GitLab,
GitHub test reporters): one `testsuite`, one `testcase` per experiment.

A test case passes when the experiment's verdict is the one it predicts. A
verdict other than the prediction is a `failure` whose message names what
broke with its measured value (the runner's reasons: "SLO play-ok did not
hold during the method (worst 88.27)", "expected breaker_opened: ..., but not
so: ..."); an experiment that got no verdict because the infrastructure
failed is an `error`; one that could not run here is `skipped`.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from chaos.gameday import ActResult

from .collect import Skipped

__all__ = ["failure_message", "junit_xml", "write_junit"]

CLASSNAME = "chaosbed"


def failure_message(result: ActResult) -> str:
    why = "; ".join(result.reasons) or "every SLO held and every expectation was met"
    if result.verdict in ("held", "deviated"):
        return f"predicted {result.predicts}, but the hypothesis {result.verdict}: {why}"
    return f"predicted {result.predicts}, but the run ended {result.verdict}: {why}"


def _duration(result: ActResult) -> float:
    value = result.journal.get("duration_s", 0.0)
    return float(value) if isinstance(value, int | float) else 0.0


def junit_xml(
    results: Sequence[ActResult],
    skipped: Sequence[Skipped] = (),
    *,
    name: str = "chaosbed verify",
    started: datetime | None = None,
    properties: dict[str, str] | None = None,
    system_out: str = "",
) -> bytes:
    started = started or datetime.now(UTC)
    failures = sum(not r.passed and r.verdict != "failed" for r in results)
    errors = sum(not r.passed and r.verdict == "failed" for r in results)
    total_time = sum(_duration(r) for r in results)
    suite = ET.Element("testsuite", {
        "name": name,
        "tests": str(len(results) + len(skipped)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(len(skipped)),
        "time": f"{total_time:.3f}",
        "timestamp": started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "hostname": socket.gethostname() or "localhost",
    })  # fmt: skip
    props = ET.SubElement(suite, "properties")
    for key, value in (properties or {}).items():
        ET.SubElement(props, "property", {"name": key, "value": value})
    for result in results:
        case = ET.SubElement(suite, "testcase", {
            "name": result.name, "classname": f"{CLASSNAME}.{result.source or 'inline'}",
            "time": f"{_duration(result):.3f}",
        })  # fmt: skip
        if not result.passed:
            kind = "error" if result.verdict == "failed" else "failure"
            element = ET.SubElement(case, kind, {
                "message": failure_message(result), "type": result.verdict,
            })  # fmt: skip
            element.text = "\n".join([*result.reasons, f"journal: {result.journal_path}"])
    for skip in skipped:
        case = ET.SubElement(suite, "testcase", {
            "name": skip.name, "classname": f"{CLASSNAME}.{skip.source}", "time": "0.000",
        })  # fmt: skip
        ET.SubElement(case, "skipped", {"message": skip.why})
    ET.SubElement(suite, "system-out").text = system_out
    ET.SubElement(suite, "system-err").text = ""
    ET.indent(suite)
    return bytes(ET.tostring(suite, encoding="utf-8", xml_declaration=True))


def write_junit(path: Path, document: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(document)
    return path
