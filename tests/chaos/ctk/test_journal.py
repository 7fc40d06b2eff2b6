"""Chaos Toolkit journals, written by the real `chaos run` of small experiments that
need no stack, read by `chaosbed report` and `chaosbed verify --junit`: CTK's
verdict where chaosbed judged nothing, never "held" without a hypothesis after the
method, and the chaosbed run an exported experiment's journal carries."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from chaos.cli import main
from chaos.ctk.journal import chaosbed_journal_of
from chaos.report import JournalUnreadable, read_journal
from chaos.runner.journal import Journal

from .conftest import chaos

#: A probe that answers whatever `path` says: "/" exists; "/nowhere" does not.
EXISTS = {"type": "python", "module": "os.path", "func": "exists"}


def probe(name: str, path: str) -> dict[str, Any]:
    return {"type": "probe", "name": name, "tolerance": True,
            "provider": {**EXISTS, "arguments": {"path": path}}}  # fmt: skip


def ctk_journal(tmp_path: Path, name: str, *, after: str | None, strategy: str) -> Path:
    """The journal of `chaos run` of an experiment whose hypothesis probe reads `after`
    (None: no hypothesis) under `strategy`, with one method action."""
    experiment: dict[str, Any] = {
        "title": name, "description": "a small CTK experiment",
        "runtime": {"hypothesis": {"strategy": strategy}},
        "method": [{"type": "action", "name": "a pause", "provider": {
            "type": "process", "path": "true"}}],
    }  # fmt: skip
    if after is not None:
        experiment["steady-state-hypothesis"] = {"title": "h", "probes": [probe("it", after)]}
    source, journal = tmp_path / f"{name}.experiment.json", tmp_path / f"{name}.json"
    source.write_text(json.dumps(experiment))
    chaos("run", "--journal-path", str(journal), str(source), cwd=tmp_path, timeout=60)
    return journal


@pytest.mark.parametrize(
    ("after", "strategy", "verdict", "says"),
    [
        ("/", "after-method-only", "held", ""),
        ("/nowhere", "after-method-only", "deviated", "probe it (after it): False is not within"),
        ("/nowhere", "before-method-only", "not_steady", "probe it (before the method)"),
        (None, "default", "failed", "nothing was judged after the faults"),
        ("/", "before-method-only", "failed", "nothing was judged after the faults"),
    ],
    ids=["held", "deviated", "not-steady", "no-hypothesis", "before-only"],
)
def test_a_ctk_journal_reads_as_ctks_verdict_never_held_without_a_hypothesis_after(
    tmp_path: Path, after: str | None, strategy: str, verdict: str, says: str
) -> None:
    path = ctk_journal(tmp_path, "small", after=after, strategy=strategy)

    (run,) = read_journal(path).runs

    assert run.verdict == verdict, run.reasons
    assert says in " ".join(run.reasons)
    played = [] if verdict == "not_steady" else ["a pause"]  # CTK skipped the method
    assert [e["activity"] for e in run.events if e["phase"] == "method"] == played


def test_verify_reads_ctk_journals_into_junit_and_refuses_them_mixed_with_experiments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    held = ctk_journal(tmp_path, "held", after="/", strategy="after-method-only")
    deviated = ctk_journal(tmp_path, "deviated", after="/nowhere", strategy="after-method-only")
    junit = tmp_path / "junit.xml"
    state = ["--state-dir", str(tmp_path / "state")]

    code = main(["verify", str(held), str(deviated), "--junit", str(junit), *state])

    assert code == 1
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {"held", "deviated"}
    assert cases["held"].find("failure") is None
    failure = cases["deviated"].find("failure")
    assert failure is not None and "probe it (after it)" in failure.get("message", "")
    experiment = Path(__file__).parents[3] / "chaos" / "experiments" / "profiles-down.yaml"
    assert main(["verify", str(held), str(experiment), *state]) == 2
    assert "a Chaos Toolkit journal is read, not run" in capsys.readouterr().err


def test_the_chaosbed_run_a_ctk_journal_names_is_the_one_read(tmp_path: Path) -> None:
    chaosbed = Journal("r1", {"title": "exported", "hypothesis": "h", "steady_state": {"slos": []}})
    chaosbed.verdict, chaosbed.reasons = "deviated", ["SLO play-ok did not hold"]
    chaosbed.context["predicts"] = "deviated"
    chaosbed.write(tmp_path / "chaosbed.json")
    ctk = json.loads(
        ctk_journal(tmp_path, "x", after="/", strategy="after-method-only").read_text()
    )
    ctk["chaosbed"] = {"run": {"journal": str(tmp_path / "chaosbed.json")}}

    journal = chaosbed_journal_of(ctk, "ctk.json")

    assert journal["verdict"] == "deviated" and journal["context"]["ctk"]["status"] == "completed"
    ctk["chaosbed"]["run"]["journal"] = str(tmp_path / "gone.json")
    with pytest.raises(JournalUnreadable, match=r"ctk.json.chaosbed.run.journal"):
        chaosbed_journal_of(ctk, "ctk.json")
