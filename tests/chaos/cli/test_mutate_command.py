"""`chaosbed mutate` refuses what it cannot do before anything starts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import yaml

from chaos.cli import RuntimeChoice, main
from chaos.cli.runtime_options import make_runtime
from chaos.exitcodes import ExitCode
from chaos.experiment import load_experiment
from chaos.project import COMPOSE_FILE
from chaos.runner.session import experiment_record
from chaos.runtime.docker import DockerRuntime


def mutate(*argv: str) -> tuple[int, str]:
    status, _, err = mutate_out(*argv)
    return status, err


def mutate_out(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["mutate", *argv], out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_an_unknown_mutant_exits_2_naming_the_known_ones(tmp_path: Path) -> None:
    status, err = mutate("--only", "no-retrys", "--state-dir", str(tmp_path))

    assert status == ExitCode.INVALID_INPUT
    assert "--only no-retrys: no such mutant; known: no-retries, retry-non-idempotent" in err


def test_on_docker_the_mutant_reaches_every_container_through_compose(tmp_path: Path) -> None:
    choice = RuntimeChoice("docker", tmp_path, environ=(("CHAOSBED_MUTANT", "no-retries"),))
    runtime = make_runtime(choice)
    assert isinstance(runtime, DockerRuntime)
    assert runtime.compose.environ["CHAOSBED_MUTANT"] == "no-retries"
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    for name in (spec.name for spec in runtime.services):
        assert compose["services"][name]["environment"]["CHAOSBED_MUTANT"] == (
            "${CHAOSBED_MUTANT:-}"
        ), name


def test_a_mutant_no_experiment_covers_is_a_hole_that_fails_the_run_without_a_stack(
    tmp_path: Path,
) -> None:
    out_dir = tmp_path / "out"
    # the shipped library covers every mutant: a suite of one experiment that
    # does not cover retries of non-idempotent calls leaves that mutant a hole
    unrelated = (
        COMPOSE_FILE.parents[1] / "chaos" / "experiments" / "catalog-down-seen-by-members.yaml"
    )
    status, out, _ = mutate_out("--only", "retry-non-idempotent", "--experiments", str(unrelated),
                                "--state-dir", str(tmp_path / "state"),
                                "--out", str(out_dir))  # fmt: skip

    assert status == ExitCode.DEVIATED
    assert "| retry-non-idempotent | idempotent-retries | uncovered |" in out
    assert (out_dir / "matrix.json").exists() and (out_dir / "matrix.xml").exists()
    assert not (tmp_path / "state").exists()


def test_parallel_lanes_past_the_last_port_are_refused_before_any_starts(tmp_path: Path) -> None:
    status, err = mutate("--parallel", "2", "--port-base", "65520", "--state-dir", str(tmp_path),
                         "--out", str(tmp_path / "out"))  # fmt: skip

    assert status == ExitCode.INVALID_INPUT
    assert "--parallel 2 from port base 65520: lane 2 would take ports 65530..65539" in err
    assert not (tmp_path / "out").exists()


COVERS_RETRIES = """
title: Retries, covered
hypothesis: A little latency on catalog changes nothing members see.
runtimes: [process]
covers: [retries]
load: {rate: 10, mix: {homepage: 100}, members: 20}
steady_state:
  warmup: 2s
  hold: 1s
  slos:
    - {name: home-ok, availability: {service: recommendations, source: members},
       objective: 50, window: 3s}
method:
  - {fault: latency, edge: recommendations -> catalog, delay_ms: 20, duration: 3s}
"""


def test_in_parallel_a_stack_that_cannot_start_is_an_error_never_a_catch(
    tmp_path: Path, busy_lanes: int
) -> None:
    experiment = tmp_path / "covers-retries.yaml"
    experiment.write_text(COVERS_RETRIES)
    out_dir = tmp_path / "out"
    status, _, _ = mutate_out(
        "--only", "no-retries", "--experiments", str(experiment), "--parallel", "2",
        "--port-base", str(busy_lanes), "--state-dir", str(tmp_path / "state"),
        "--out", str(out_dir),
    )  # fmt: skip

    assert status == ExitCode.DEVIATED
    rows = {
        row["mutant"]: row for row in json.loads((out_dir / "matrix.json").read_text())["mutants"]
    }
    assert rows["no-retries"]["outcome"] == "error"
    cell = rows["no-retries"]["experiments"][0]
    assert cell["outcome"] == "error" and "is already in use" in cell["why"]
    assert rows["(unmutated)"]["experiments"][0]["outcome"] == "error"


def test_a_baseline_that_is_not_a_directory_exits_2_before_any_stack(tmp_path: Path) -> None:
    status, err = mutate("--only", "no-retries", "--baseline", str(tmp_path / "nowhere"),
                         "--state-dir", str(tmp_path / "state"))  # fmt: skip

    assert status == ExitCode.INVALID_INPUT
    assert f"--baseline {tmp_path / 'nowhere'}: not a directory" in err
    assert not (tmp_path / "state").exists()


def test_with_a_baseline_the_unmutated_verdicts_are_read_and_not_played(
    tmp_path: Path, busy_lanes: int
) -> None:
    experiment = tmp_path / "covers-retries.yaml"
    experiment.write_text(COVERS_RETRIES)
    record = experiment_record(load_experiment(experiment))
    baseline = tmp_path / "verify-out"
    baseline.mkdir()
    (baseline / "01-covers-retries.json").write_text(json.dumps({
        "chaosbed_journal": 1, "started_at": "2026-12-03T10:00:00", "experiment": record,
        "context": {"runtime": "process"}, "verdict": "held", "reasons": [],
    }))  # fmt: skip
    out_dir = tmp_path / "out"
    status, out, _ = mutate_out(
        "--only", "no-retries", "--experiments", str(experiment), "--parallel", "2",
        "--baseline", str(baseline), "--port-base", str(busy_lanes),
        "--state-dir", str(tmp_path / "state"), "--out", str(out_dir),
    )  # fmt: skip

    assert "baseline: 1 of 1 unmutated verdicts read" in out
    rows = {
        row["mutant"]: row for row in json.loads((out_dir / "matrix.json").read_text())["mutants"]
    }
    # held, read from the journal: a play would have met the busy ports and been an error
    assert rows["(unmutated)"]["outcome"] == "held"
    assert rows["(unmutated)"]["experiments"][0]["outcome"] == "held"
    assert rows["no-retries"]["outcome"] == "error"  # its own stack still had to start
    assert status == ExitCode.DEVIATED
