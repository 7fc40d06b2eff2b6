"""`chaosbed mutate --only` against the process runtime: the unmutated stack holds
its prediction, the mutant is caught, and the matrix is written three ways.
Needs ports 8081-8086, 9090 and 9095 free (`pytest -m e2e`)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_mutate_catches_the_cached_popular_list_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "mutate", "--only", "no-cached-popular",
         "--state-dir", str(tmp_path / "state"), "--out", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    sys.stdout.write(done.stdout[-3000:] + done.stderr[-3000:])

    assert done.returncode == 0
    matrix = json.loads((out / "matrix.json").read_text())
    rows = {row["mutant"]: row for row in matrix["mutants"]}
    assert rows["(unmutated)"]["outcome"] == "held"
    assert rows["no-cached-popular"]["outcome"] == "caught"
    assert [e["experiment"] for e in rows["no-cached-popular"]["experiments"]] == [
        "catalog-popular-erroring"
    ]
    assert ET.parse(out / "matrix.xml").getroot().get("failures") == "0"
    assert (
        "| no-cached-popular | fallback-cached-popular | caught |"
        in (out / "matrix.md").read_text()
    )
