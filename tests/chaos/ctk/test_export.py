"""`chaosbed export --format ctk`: the CTK experiment's shape, checked by the real
Chaos Toolkit's validator; refusals named; and a chaosbed experiment CTK carries that
is not valid stops the run before anything is injected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaos.cli import main
from chaos.ctk import actions, probes
from chaos.ctk.export import export_file
from chaos.ctk.stack import ActivityError

from .conftest import chaos

LIBRARY = Path(__file__).parents[3] / "chaos" / "experiments"
EXPLORATION = Path(__file__).parents[3] / "chaos" / "explorations" / "every-call-site.yaml"
OFFSETS = """\
title: Two faults that overlap
hypothesis: the homepage holds
load: {rate: 10, mix: {homepage: 100}}
steady_state:
  slos:
    - {name: ok, availability: {service: recommendations}, objective: 99, window: 10s}
method:
  - {name: slow, fault: latency, target: catalog, delay_ms: 200, duration: 20s}
  - {name: errors, fault: error, target: catalog, route: /popular, offset: 5s, duration: 10s}
"""


def test_a_method_in_sequence_is_ctk_actions_in_order_each_playing_its_step() -> None:
    source = LIBRARY / "profiles-down.yaml"
    exported = export_file(source)

    (extension,) = exported["extensions"]
    assert extension["name"] == "chaosbed" and extension["source"] == str(source)
    assert extension["experiment"]["title"] == exported["title"]
    assert exported["controls"] == [
        {"name": "chaosbed", "provider": {"type": "python", "module": "chaos.ctk.control"}}
    ]
    assert exported["runtime"]["hypothesis"] == {"strategy": "after-method-only"}
    (verdict,) = exported["steady-state-hypothesis"]["probes"]
    assert verdict["tolerance"] == "held"
    assert verdict["provider"]["func"] == "verdict" and "verdict" in probes.__all__
    method = exported["method"]
    assert [a["provider"]["arguments"]["step"] for a in method] == [
        step["name"] if "name" in step else f"{i + 1}-{step['fault']}"
        for i, step in enumerate(extension["experiment"]["method"])
    ]
    assert all(a["provider"]["func"] == "run_step" for a in method)
    assert not any(a.get("background") or a.get("pauses") for a in method)
    assert "run_step" in actions.__all__


def test_a_method_with_an_offset_plays_every_step_in_the_background(
    tmp_path: Path,
) -> None:
    source = tmp_path / "overlap.yaml"
    source.write_text(OFFSETS)
    method = export_file(source)["method"]
    assert [(a["provider"]["arguments"]["step"], a["background"]) for a in method] == [
        ("slow", True),
        ("errors", True),
    ]
    assert not any(a.get("pauses") for a in method)  # the runner starts each at its offset


def test_every_library_export_is_valid_to_the_chaos_toolkit(tmp_path: Path) -> None:
    """Each by CTK's own validator (in this process: it imports every activity's module
    and binds its arguments); one through `chaos validate` itself."""
    from chaoslib.experiment import ensure_experiment_is_valid

    library = sorted(LIBRARY.glob("*.yaml"))
    assert len(library) > 20
    for source in library:
        ensure_experiment_is_valid(json.loads(json.dumps(export_file(source), default=str)))
    path = tmp_path / "popular.json"
    assert main(["export", "--format", "ctk", str(LIBRARY / "catalog-popular-erroring.yaml"),
                 "-o", str(path)]) == 0  # fmt: skip
    done = chaos("validate", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "experiment looks valid" in (done.stdout + done.stderr).lower()


def test_to_standard_output_and_refusals_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--format", "ctk", str(LIBRARY / "profiles-down.yaml")]) == 0
    assert json.loads(capsys.readouterr().out)["method"]
    assert main(["export", "--format", "ctk", str(EXPLORATION)]) == 2
    assert "an exploration, not an experiment" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text(OFFSETS.replace("delay_ms: 200, ", ""))
    assert main(["export", "--format", "ctk", str(broken)]) == 2
    assert "delay_ms" in capsys.readouterr().err


def test_an_invalid_chaosbed_experiment_in_a_ctk_run_stops_it_before_any_fault(
    tmp_path: Path,
) -> None:
    exported = export_file(LIBRARY / "catalog-popular-erroring.yaml")
    del exported["extensions"][0]["experiment"]["steady_state"]
    path = tmp_path / "invalid.json"
    path.write_text(json.dumps(exported))

    done = chaos("run", "--journal-path", str(tmp_path / "journal.json"), str(path), cwd=tmp_path)

    journal = json.loads((tmp_path / "journal.json").read_text())
    assert done.returncode == 1
    assert journal["status"] == "interrupted" and journal["run"] == []
    assert "steady_state" in done.stdout + done.stderr


def test_a_dry_ctk_run_is_refused_before_any_fault(tmp_path: Path) -> None:
    path = tmp_path / "popular.json"
    path.write_text(json.dumps(export_file(LIBRARY / "catalog-popular-erroring.yaml")))

    done = chaos("run", "--dry", "activities", "--journal-path", str(tmp_path / "j.json"),
                 str(path), cwd=tmp_path)  # fmt: skip

    journal = json.loads((tmp_path / "j.json").read_text())
    assert done.returncode == 1 and journal["status"] == "interrupted"
    assert "a dry run injects nothing" in done.stdout + done.stderr


def test_a_step_or_a_verdict_outside_a_chaosbed_run_fails_saying_what_is_missing() -> None:
    with pytest.raises(ActivityError, match="declare the control"):
        actions.run_step("1-error")
    with pytest.raises(ActivityError, match="declare the control"):
        probes.verdict()


def test_export_needs_a_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(LIBRARY / "profiles-down.yaml")]) == 2
    assert "--format" in capsys.readouterr().err
