"""The real `chaos run` (Chaos Toolkit) of an experiment written with chaosbed's
activities, against a process stack: the fault is injected under its tag, members'
requests see it, the rules' matched count says so, the rollback removes it, and
`chaosbed cleanup` finds nothing left. Needs its worker's ports free (`pytest -m e2e`)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chaos.cli import main
from chaos.ctk import probes, reads
from chaos.ctk.ledger import Ledger
from chaos.ctk.stack import ActivityError, run
from chaos.runtime.process import ProcessRuntime

from .conftest import chaos, run_argv

pytestmark = pytest.mark.e2e


def experiment_file(tmp_path: Path, state_dir: Path, title: str, **fields: Any) -> Path:
    """An experiment titled `title` on the stack in `state_dir`, written to a file."""
    experiment = {"title": title, "description": title,
                  "configuration": {"chaosbed_state_dir": str(state_dir)}, **fields}  # fmt: skip
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(experiment))
    return path


def chaos_run(path: Path, journal: Path) -> subprocess.CompletedProcess[str]:
    """`chaos run --journal-path JOURNAL PATH` in PATH's directory, to its end."""
    return chaos("run", "--journal-path", str(journal), str(path), cwd=path.parent, timeout=120)


def activity(kind: str, name: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    provider = {"type": "python", "module": module, "func": func, "arguments": arguments}
    return {"type": kind, "name": name, "provider": provider}


def test_chaos_run_injects_sees_and_rolls_back_a_chaosbed_fault(
    state_dir: Path, tmp_path: Path
) -> None:
    catalog = ProcessRuntime(state_dir).base_url("catalog")
    http = {"type": "http", "url": f"{catalog}/titles/1", "expected_status": 503}
    title = {"type": "probe", "name": "a title, seen by a member", "provider": http}
    path = experiment_file(
        tmp_path,
        state_dir,
        "Catalog's title route answers 503 while the fault holds",
        method=[
            activity(
                "action",
                "title errors",
                "chaos.ctk.actions",
                "add_errors",
                target="catalog",
                route="/titles/{id}",
                duration_s=60,
                tag="ctk-e2e",
            ),
            title,
            title,
            title,
            activity(
                "probe",
                "requests the fault matched",
                "chaos.ctk.probes",
                "faults_matched",
                tag="ctk-e2e",
            ),
        ],
        rollbacks=[
            activity(
                "action", "remove the faults", "chaos.ctk.actions", "remove_faults", tag="ctk-e2e"
            ),
        ],
    )
    journal_path = tmp_path / "journal.json"

    done = chaos_run(path, journal_path)

    journal = json.loads(journal_path.read_text())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert journal["status"] == "completed" and not journal["deviated"]
    runs = journal["run"]
    assert [r["status"] for r in runs] == ["succeeded"] * 5, [r.get("exception") for r in runs]
    assert runs[0]["output"]["verified"].startswith("rule ")
    assert runs[4]["output"] == 3  # each member request the rule answered
    (rollback,) = journal["rollbacks"]
    assert rollback["status"] == "succeeded"
    assert len(rollback["output"]["rolled_back"]) == 1
    assert Ledger(state_dir).entries() == []
    cleanup = subprocess.run(
        [sys.executable, "-m", "chaos", "cleanup", "--state-dir", str(state_dir)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "nothing left over" in cleanup.stdout, cleanup.stdout + cleanup.stderr


def rules_tagged(state_dir: Path, tag: str) -> list[str]:
    """The rules under an activities' tag each service lists (as chaosbed cleanup sees)."""
    return [str(r["id"]) for r in run(reads.rules(ProcessRuntime(state_dir), tag))]


@pytest.mark.parametrize("controlled", [True, False], ids=["with-the-control", "ctk-alone"])
def test_an_interrupted_chaos_run_leaves_no_fault_only_with_the_control(
    state_dir: Path, tmp_path: Path, controlled: bool
) -> None:
    tag = f"sigint-{controlled}".lower()
    errors = activity("action", "title errors", "chaos.ctk.actions", "add_errors",
                      target="catalog", duration_s=120, tag=tag)  # fmt: skip
    errors["pauses"] = {"after": 60}  # interrupted here, the fault in place
    control = {"name": "chaosbed", "provider": {"type": "python", "module": "chaos.ctk.control"}}
    path = experiment_file(
        tmp_path, state_dir, "Ctrl-C while catalog answers 503",
        method=[errors],
        rollbacks=[activity("action", "remove", "chaos.ctk.actions", "remove_faults", tag=tag)],
        **({"controls": [control]} if controlled else {}),
    )  # fmt: skip
    journal_path = tmp_path / "journal.json"
    argv = run_argv(path, journal_path)
    with subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as chaos:  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not rules_tagged(state_dir, tag):  # the fault is in: now Ctrl-C
                assert chaos.poll() is None and time.monotonic() < deadline, "no fault injected"
                time.sleep(0.2)
            time.sleep(0.5)
            chaos.send_signal(signal.SIGINT)
            output, _ = chaos.communicate(timeout=60)
        finally:
            if chaos.poll() is None:
                chaos.kill()

    journal = json.loads(journal_path.read_text())
    assert journal["status"] == "interrupted", output[-3000:]
    assert journal["rollbacks"] == []  # CTK's default strategy skips them when interrupted
    left = rules_tagged(state_dir, tag)
    if controlled:
        assert left == [], journal.get("chaosbed")
        assert journal["chaosbed"]["status"] == "interrupted"
        assert len(journal["chaosbed"]["rolled_back"]) == 1 and not journal["chaosbed"]["failed"]
        assert Ledger(state_dir).entries(tag) == []
        written = journal["chaosbed"]["run"]  # chaosbed's journal and report, from CTK's
        assert written["verdict"] == "aborted" and written["reasons"][0] == (
            "CTK's run ended interrupted"
        )
        assert Path(written["report"]).is_file()
    else:  # the fault outlives the run until its TTL (or a cleanup)
        assert len(left) == 1
        assert "chaosbed" not in journal
        assert len(Ledger(state_dir).entries(tag)) == 1
        assert main(["cleanup", "--state-dir", str(state_dir)]) == 0
        assert rules_tagged(state_dir, tag) == []
        assert Ledger(state_dir).entries() == []  # cleanup forgets what it removed


@pytest.mark.parametrize("requests", [2, 0], ids=["members-hit-it", "nothing-hit-it"])
def test_a_fault_that_matched_nothing_deviates_with_the_documented_hypothesis(
    state_dir: Path, tmp_path: Path, requests: int
) -> None:
    """docs/ctk.md's evidence: faults_matched in the hypothesis after the method."""
    tag = f"evidence-{requests}"
    catalog = ProcessRuntime(state_dir).base_url("catalog")
    http = {"type": "http", "url": f"{catalog}/titles/7", "expected_status": 503}
    matched = activity("probe", "requests the fault matched", "chaos.ctk.probes",
                       "faults_matched", tag=tag)  # fmt: skip
    matched["tolerance"] = {"type": "range", "range": [1, 1000000000]}
    path = experiment_file(
        tmp_path, state_dir, "A fault members reach, or not",
        runtime={"hypothesis": {"strategy": "after-method-only"}},
        **{"steady-state-hypothesis": {"title": "the fault reached members", "probes": [matched]}},
        method=[
            activity("action", "title errors", "chaos.ctk.actions", "add_errors",
                     target="catalog", route="/titles/{id}", duration_s=60, tag=tag),
            *[{"type": "probe", "name": f"title {n}", "provider": http} for n in range(requests)],
        ],
        rollbacks=[activity("action", "remove", "chaos.ctk.actions", "remove_faults", tag=tag)],
    )  # fmt: skip
    journal_path = tmp_path / "journal.json"

    done = chaos_run(path, journal_path)

    journal = json.loads(journal_path.read_text())
    (probe,) = journal["steady_states"]["after"]["probes"]
    assert probe["output"] == requests
    assert journal["deviated"] is (requests == 0)
    assert done.returncode == (1 if requests == 0 else 0), done.stdout[-2000:]
    assert rules_tagged(state_dir, tag) == []  # rolled back either way


def test_an_slo_probe_with_no_data_fails_rather_than_passing(state_dir: Path) -> None:
    """No member calls recommendations here: its availability has no data, which is
    never a value, nor "met"."""
    assert ProcessRuntime(state_dir).prometheus_url(), "the stack runs no Prometheus"
    slo = {"name": "home-ok", "availability": {"service": "recommendations"},
           "objective": 99, "window": "5s"}  # fmt: skip
    configuration = {"chaosbed_state_dir": str(state_dir)}

    for probe in (probes.slo_value, probes.slo_met):
        with pytest.raises(ActivityError, match="slo home-ok: no data over its 5s window"):
            probe(slo, configuration)
