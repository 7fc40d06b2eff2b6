"""What `chaosbed verify PATHS` runs: directories expanded, game days
unfolded, what cannot run here skipped or refused."""

from __future__ import annotations

import shutil
from pathlib import Path

from chaos.cli.run import runnable_problems
from chaos.gameday import Act
from chaos.verify import collect

ROOT = Path(__file__).parents[3] / "chaos"


def test_a_directory_is_its_experiments_and_game_days_unfolded(tmp_path: Path) -> None:
    shutil.copy(ROOT / "experiments" / "profiles-down.yaml", tmp_path / "a.yaml")
    (tmp_path / "day.yaml").write_text(
        "title: d\nexperiments:\n  - experiment: a.yaml\n    name: again\n"
    )
    (tmp_path / "notes.txt").write_text("not yaml")
    suite = collect([tmp_path], lambda act: [])
    assert [a.name for a in suite.acts] == ["a", "day/again"]
    assert not suite.skipped and not suite.invalid


def test_what_cannot_run_here_is_skipped_in_a_directory_and_refused_by_name() -> None:
    gamedays = ROOT / "gamedays"

    def process(act: Act) -> list[str]:
        return runnable_problems(act.experiment, "process", "auto")

    in_directory = collect([gamedays], process)
    skipped = {s.name for s in in_directory.skipped}
    assert {
        "evening-peak/recommendations-outage",
        "evening-peak/playback-profiles-partition",
    } <= skipped
    assert {a.name for a in in_directory.acts} >= {"short/catalog-hangs"}
    by_name = collect([gamedays / "evening-peak.yaml"], process)
    assert by_name.invalid  # verify exits 2 before anything runs
    assert "evening-peak/recommendations-outage" in by_name.invalid[0]


def test_a_missing_path_and_a_name_used_twice_are_invalid(tmp_path: Path) -> None:
    shutil.copy(ROOT / "experiments" / "profiles-down.yaml", tmp_path / "a.yaml")
    suite = collect([tmp_path / "a.yaml", tmp_path / "a.yaml", tmp_path / "b.yaml"],
                    lambda act: [])  # fmt: skip
    assert any("named twice" in p for p in suite.invalid)
    assert any("b.yaml: no such file" in p for p in suite.invalid)
