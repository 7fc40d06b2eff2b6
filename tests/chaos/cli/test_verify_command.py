"""`chaosbed verify` without a stack: invalid input exits 2 before anything
runs; against a stack that is not up, the first experiment is a JUnit error,
the rest are skipped as not run, and it exits 5 saying where everything is."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

from chaos.cli import main
from chaos.exitcodes import ExitCode

CHAOS = Path(__file__).parents[3] / "chaos"
SCHEMA = Path(__file__).parents[1] / "verify" / "junit.xsd"


def verify(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["verify", *argv], out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_a_docker_only_game_day_named_on_the_process_runtime_exits_2(tmp_path: Path) -> None:
    status, _, err = verify(str(CHAOS / "gamedays" / "evening-peak.yaml"),
                            "--state-dir", str(tmp_path))  # fmt: skip
    assert status == ExitCode.INVALID_INPUT
    assert "evening-peak/recommendations-outage" in err and "runtimes" in err


def test_a_missing_path_exits_2(tmp_path: Path) -> None:
    status, _, err = verify(str(tmp_path / "nowhere.yaml"), "--state-dir", str(tmp_path))
    assert status == ExitCode.INVALID_INPUT and "nowhere.yaml: no such file" in err


def test_with_no_stack_up_the_suite_stops_with_an_error_case_and_says_where_it_all_is(
    tmp_path: Path,
) -> None:
    junit, out_dir = tmp_path / "junit.xml", tmp_path / "out"
    status, out, _ = verify(
        str(CHAOS / "gamedays" / "short.yaml"), "--junit", str(junit),
        "--state-dir", str(tmp_path / "state"), "--out", str(out_dir),
    )  # fmt: skip
    assert status == ExitCode.INFRASTRUCTURE_FAILED
    assert f"junit: {junit}" in out
    assert f"journal: {out_dir / 'gameday.json'}" in out
    assert f"report: {out_dir / 'report.html'}" in out
    xmlschema.XMLSchema(SCHEMA).validate(junit.read_text())
    suite = ET.parse(junit).getroot()
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "short/catalog-hangs",
        "short/recommendations-killed",
        "short/retry-budget-spent",
    ]
    error = cases[0].find("error")
    assert error is not None and "could not reach the stack" in error.get("message", "")
    assert all(c.find("skipped") is not None for c in cases[1:])
