"""`chaosbed explore` on a real process stack: every journey's call sites, every
fault, no violation on main; a regression switched on (CHAOSBED_MUTANT) turns
it red, naming the call site. Each stack is this worker's (`pytest -m e2e`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chaos.runtime.process import ProcessRuntime
from tests.chaos.command import chaosbed

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("mutant", "status", "named"),
    [
        ("", 0, None),
        # the fallbacks: each named by the journey and call site it fails to cover
        ("no-default-preferences", 1, "homepage: recommendations -> profiles GET /profiles/"),
        ("no-cached-popular", 1, "homepage: recommendations -> catalog GET /popular"),
        ("no-cached-profile", 1, "play: playback -> profiles GET /profiles/{member}"),
        # the retries: a failed first try is no longer retried away ...
        ("no-retries", 1, "its first try failed and it was not retried"),
        # ... or playback retries its play record, a POST without an Idempotency-Key
        ("retry-non-idempotent", 1, "retried (try 2) without an Idempotency-Key"),
    ],
    ids=[
        "main",
        "no-default-preferences",
        "no-cached-popular",
        "no-cached-profile",
        "no-retries",
        "retry-non-idempotent",
    ],
)
def test_explore_holds_on_main_and_names_the_call_site_a_regression_breaks(
    tmp_path: Path, mutant: str, status: int, named: str | None
) -> None:
    state, out = tmp_path / "state", tmp_path / "out"
    env = {**os.environ, "CHAOSBED_MUTANT": mutant}
    assert chaosbed("up", "--state-dir", str(state), env=env).returncode == 0
    try:
        done = chaosbed("explore", "--state-dir", str(state), "--out", str(out))
    finally:
        ProcessRuntime(state).down()
    assert done.returncode == status, done.stdout
    document = json.loads((out / "explore.json").read_text())
    executions = document["executions"]
    journeys = {e["journey"] for e in executions}
    assert journeys == {"homepage", "title", "play", "preferences", "sync"}
    # 8 call sites x 8 faults, 6 idempotent ones x 5 faults on the first try, and
    # each journey fault-free
    assert len(executions) >= 90
    assert (out / "explore.xml").exists()
    if named is None:
        assert document["violations"] == 0 and "0 violating the contract" in done.stdout
    else:
        assert document["violations"] > 0 and named in done.stdout


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
