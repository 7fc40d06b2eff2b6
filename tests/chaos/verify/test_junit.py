"""The JUnit XML validates against the schema CI servers read; a verdict
other than the prediction is a failure naming the SLO and its value."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from chaos.gameday import ActResult
from chaos.verify import Skipped, junit_xml

from ..report.conftest import HUNG, OVER_BUDGET

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent / "junit.xsd")


def result(name: str, journal: Path, predicts: str) -> ActResult:
    document = json.loads(journal.read_text())
    return ActResult(
        name=name,
        title=document["experiment"]["title"],
        source=document["context"]["source"],
        predicts=predicts,
        verdict=document["verdict"],
        reasons=tuple(document["reasons"]),
        journal_path=journal,
        journal=document,
    )


def test_one_testsuite_a_testcase_per_experiment_valid_against_the_junit_schema() -> None:
    results = [
        result("hung", HUNG, "held"),  # held, as predicted: passes
        result("over-budget", OVER_BUDGET, "held"),  # deviated, predicted held: fails
    ]
    skipped = [Skipped("partition", "evening-peak.yaml", "needs the docker runtime")]
    xml = junit_xml(results, skipped, properties={"runtime": "process"})
    SCHEMA.validate(xml.decode())
    suite = ET.fromstring(xml)
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == ("3", "1", "0", "1")  # fmt: skip
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["hung", "over-budget", "partition"]
    assert list(cases["hung"]) == []
    failure = cases["over-budget"].find("failure")
    assert failure is not None
    message = failure.get("message", "")
    assert message.startswith("predicted held, but the hypothesis deviated")
    assert "SLO play-ok did not hold during the method (worst 88.2716)" in message
    assert cases["partition"].find("skipped") is not None


def test_an_experiment_that_held_against_a_predicted_deviation_fails() -> None:
    xml = junit_xml([result("hung", HUNG, "deviated")])
    SCHEMA.validate(xml.decode())
    failure = ET.fromstring(xml).find("testcase/failure")
    assert failure is not None
    assert "predicted deviated, but the hypothesis held" in failure.get("message", "")


def test_a_run_the_infrastructure_failed_is_an_error() -> None:
    failed = result("hung", HUNG, "held")
    failed = ActResult(**{**failed.__dict__, "verdict": "failed",
                          "reasons": ("preflight: service catalog is not ready",)})  # fmt: skip
    xml = junit_xml([failed])
    SCHEMA.validate(xml.decode())
    suite = ET.fromstring(xml)
    assert (suite.get("failures"), suite.get("errors")) == ("0", "1")
    error = suite.find("testcase/error")
    assert error is not None and "catalog is not ready" in error.get("message", "")


def test_the_schema_rejects_what_ci_servers_would() -> None:
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        SCHEMA.validate('<testsuite name="x"><testcase name="a"/></testsuite>')
