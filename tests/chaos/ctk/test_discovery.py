"""`chaos discover chaosbed --no-install` (the real Chaos Toolkit CLI) lists every
chaosbed action and probe, with its arguments' types and defaults and its docstring."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from chaos.ctk import actions, probes

CHAOS = Path(sys.executable).parent / "chaos"


def test_chaos_discover_lists_every_activity_with_typed_arguments_and_docs(tmp_path: Path) -> None:
    assert CHAOS.is_file(), f"{CHAOS} is missing: install chaosbed's dev extras (chaostoolkit)"
    found = tmp_path / "discovery.json"
    done = subprocess.run(
        [str(CHAOS), "--no-version-check", "--no-log-file", "discover", "chaosbed",
         "--no-install", "--no-system-info", "--discovery-path", str(found)],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0 and found.is_file(), done.stdout + done.stderr

    discovery = json.loads(found.read_text())
    activities = {a["name"]: a for a in discovery["activities"]}
    assert discovery["extension"]["name"] == "chaosbed"
    assert {n for n, a in activities.items() if a["type"] == "action"} == set(actions.__all__)
    assert {n for n, a in activities.items() if a["type"] == "probe"} == set(probes.__all__)
    assert all(a["doc"] for a in activities.values())
    latency = {arg["name"]: arg for arg in activities["add_latency"]["arguments"]}
    assert latency["delay_ms"] == {"name": "delay_ms", "type": "number"}  # required
    assert latency["percent"]["default"] == 100.0
    assert latency["tag"] == {"name": "tag", "default": "", "type": "string"}
    assert activities["inject"]["arguments"][0] == {"name": "step", "type": "mapping"}
    assert activities["faults_matched"]["return_type"] == "integer"
    assert activities["add_errors"]["mod"] == "chaos.ctk.actions"
