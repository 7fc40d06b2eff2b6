"""`chaosbed explore` on a real process stack: every journey's call sites, every
fault, no violation on main, also while an experiment with live member traffic
runs on the same stack (which still holds); a plan the stack does not honour
stops it. Each stack is this worker's (`pytest -m e2e`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from chaos.runtime.process import ProcessRuntime
from tests.chaos.command import chaosbed

pytestmark = pytest.mark.e2e


@pytest.mark.stacks(99)  # its executions are one request each: see the next test's reason
def test_explore_holds_on_main_and_writes_its_journal_junit_and_report(tmp_path: Path) -> None:
    """The regressions it catches (the fallbacks, the retries, the per-try timeout) are
    shown by `chaosbed mutate`, which plays the shipped exploration on each mutant's
    stack (tests/chaos/mutate/test_mutate_process.py)."""
    state, out = tmp_path / "state", tmp_path / "out"
    assert chaosbed("up", "--state-dir", str(state)).returncode == 0
    try:
        done = chaosbed("explore", "--state-dir", str(state), "--out", str(out))
    finally:
        ProcessRuntime(state).down()
    assert done.returncode == 0, done.stdout
    document = json.loads((out / "explore.json").read_text())
    assert document["verdict"] == "held" and document["violations"] == 0
    executions = document["executions"]
    journeys = {e["journey"] for e in executions}
    assert journeys == {"homepage", "title", "play", "preferences", "sync"}
    # 8 call sites x 8 faults, 6 idempotent ones x 5 faults on the first try, and
    # each journey fault-free
    assert len(executions) >= 90
    assert "0 violating the contract" in done.stdout
    assert (out / "explore.xml").exists()
    assert 'class="exploration"' in (out / "explore.html").read_text()


BESIDE = """\
title: Profiles 100 ms slower for the experiment cohort, explored meanwhile
hypothesis: >
  With profiles 100 ms slower for the experiment cohort's homepage calls (well
  inside the per-try timeout), every member's homepage and play start stay
  available, while an exploration faults every call site on the same stack.
load: {rate: 30, mix: {homepage: 50, play: 50}, members: 100, experiment_percent: 20}
steady_state:
  warmup: 10s
  hold: 2s
  slos:
    - name: homepage-ok
      availability: {service: recommendations, source: members}
      objective: 99
      window: 10s
    - name: play-ok
      availability: {service: playback, source: members}
      objective: 99
      window: 10s
method:
  - fault: latency
    edge: recommendations -> profiles
    delay_ms: 100
    cohort: experiment
    duration: 30s
expect:
  - {recovered_within: 20s}
"""


#: Every slot: its exploration's executions are one request each, and a hang's
#: fallback answers within the member's deadline only on a machine that keeps up;
#: beside two stacks one answered 504 (the deadline's) in a clean-clone run.
@pytest.mark.stacks(99)
def test_an_exploration_beside_an_experiment_with_live_traffic_leaves_it_holding(
    tmp_path: Path,
) -> None:
    """Each explored request carries its own faults and nothing else: the experiment's
    members (and its own cohort-scoped fault) never see them, and the experiment's
    fault never reaches the explored requests (they belong to no cohort)."""
    state, out = tmp_path / "state", tmp_path / "out"
    experiment = tmp_path / "beside.yaml"
    experiment.write_text(BESIDE)
    journal = tmp_path / "run.json"
    assert chaosbed("up", "--state-dir", str(state)).returncode == 0
    try:
        run = subprocess.Popen(
            [sys.executable, "-m", "chaos", "run", str(experiment), "--state-dir", str(state),
             "--journal", str(journal)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert run.stdout is not None
        seen = []
        for line in run.stdout:  # a plain line at each phase change (not a terminal)
            seen.append(line)
            if "] method " in line:
                break
        assert any("] method " in line for line in seen), "".join(seen)
        began = time.time()
        explored = chaosbed("explore", "--state-dir", str(state), "--out", str(out))
        ended = time.time()
        rest, _ = run.communicate(timeout=120)
    finally:
        ProcessRuntime(state).down()
    assert explored.returncode == 0, explored.stdout
    assert run.returncode == 0, "".join(seen) + rest
    document = json.loads(journal.read_text())
    assert document["verdict"] == "held", document["reasons"]
    events = document["events"]
    injected = next(e["at"] for e in events if e["event"] == "injected")
    rolled_back = next(e["at"] for e in events if e["event"] == "rolled_back")
    # the whole exploration ran while the fault was in and the members were served
    assert parse(injected) <= began and ended <= parse(rolled_back), (injected, rolled_back)
    assert json.loads((out / "explore.json").read_text())["violations"] == 0


def parse(at: str) -> float:
    return datetime.fromisoformat(at).timestamp()


def test_a_plan_the_stack_does_not_honour_explores_nothing_and_fails(tmp_path: Path) -> None:
    """Signed with another token, every plan is ignored and no call is recorded: without
    this check explore found no call site, ran 5 executions and exited 0."""
    state = tmp_path / "state"
    assert chaosbed("up", "--state-dir", str(state)).returncode == 0
    try:
        wrong = {**os.environ, "CHAOSBED_CONTROL_TOKEN": "not-the-stacks-token"}
        done = chaosbed("explore", "--state-dir", str(state), "--out", str(tmp_path), env=wrong)
    finally:
        ProcessRuntime(state).down()
    assert done.returncode == 5, done.stdout
    assert "recorded no call: the stack did not honour the fault plan" in done.stderr
