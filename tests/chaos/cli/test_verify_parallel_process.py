"""`chaosbed verify --parallel 2` on the process runtime: two fresh stacks of its
own play three short experiments, each ends as it predicts, one journal and
one JUnit file hold all three in suite order, and no stack is left running.
The lanes take the ports from CHAOSBED_PORT_BASE (else 20000), 20 of them
(`pytest -m e2e`); about a minute."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chaos.runtime.process import ProcessRuntime

#: Every slot, not the two its lanes drive: its held experiments judge homepages at 90%
#: over 3 s, which a third stack's load breaks (as it did the plugin test's twin).
pytestmark = [pytest.mark.e2e, pytest.mark.stacks(99)]

EXPERIMENT = """
title: {title}
hypothesis: {hypothesis}
predicts: {predicts}
runtimes: [process]  # a 3s window holds 2 of its 1s scrapes
load: {{rate: 10, mix: {{homepage: 100}}, members: 20}}
steady_state:
  warmup: 2s
  hold: 1s
  slos:
    - {{name: home-ok, availability: {{service: recommendations, source: members}},
       objective: 90, window: 3s}}
method:
  - {fault}
"""
SLOW = "{fault: latency, edge: recommendations -> catalog, delay_ms: 20, duration: 3s}"
FAILING = "{fault: error, target: recommendations, status: 503, duration: 3s}"


def test_two_lanes_give_every_predicted_verdict_in_one_journal_and_junit(tmp_path: Path) -> None:
    files = []
    for name, predicts, fault in [("slow-a", "held", SLOW), ("failing", "deviated", FAILING),
                                  ("slow-b", "held", SLOW)]:  # fmt: skip
        path = tmp_path / f"{name}.yaml"
        hypothesis = "members notice" if predicts == "deviated" else "members notice nothing"
        path.write_text(EXPERIMENT.format(title=name, hypothesis=hypothesis, predicts=predicts,
                                          fault=fault))  # fmt: skip
        files.append(str(path))
    base = int(os.environ.get("CHAOSBED_PORT_BASE", "").strip() or "20000")
    out, junit = tmp_path / "out", tmp_path / "junit.xml"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "chaos", "verify", *files, "--parallel", "2",
             "--port-base", str(base), "--junit", str(junit), "--out", str(out),
             "--state-dir", str(tmp_path / "state")],
            capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip
    finally:
        left = [ProcessRuntime(out / f"lane-{i}" / "stack").down() for i in (1, 2)]
    sys.stdout.write(done.stdout[-5000:] + done.stderr[-2000:])
    assert done.returncode == 0, done.stdout[-2000:]
    assert left == [False, False]  # each lane stopped its own stack
    assert "[lane 1] started: " in done.stdout and "[lane 2] started: " in done.stdout
    journal = json.loads((out / "gameday.json").read_text())
    assert [(e["name"], e["verdict"], e["passed"]) for e in journal["experiments"]] == [
        ("slow-a", "held", True),
        ("failing", "deviated", True),
        ("slow-b", "held", True),
    ]
    suite = ET.parse(junit).getroot()
    assert [c.get("name") for c in suite.findall("testcase")] == ["slow-a", "failing", "slow-b"]
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
