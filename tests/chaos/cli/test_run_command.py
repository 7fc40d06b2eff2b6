"""`chaosbed run` refuses what it cannot run before touching anything, and
`--dry-run` prints the plan."""

from __future__ import annotations

import io
from pathlib import Path

from chaos.cli import RuntimeChoice, main
from chaos.cli.run import runnable_problems
from chaos.exitcodes import ExitCode
from chaos.experiment import load_experiment
from chaos.experiment.model import Experiment
from chaos.runtime import ProcessRuntime, Runtime
from chaos.runtime.process import PrometheusOptions

LIBRARY = Path(__file__).parents[3] / "chaos" / "experiments"


def untouchable(choice: RuntimeChoice) -> Runtime:
    raise AssertionError(f"an invalid experiment must not reach the {choice.name} runtime")


def run(argv: list[str], make_runtime: object = untouchable) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, make_runtime=make_runtime, out=out, err=err)  # type: ignore[arg-type]
    return status, out.getvalue(), err.getvalue()


def test_an_invalid_experiment_is_refused_naming_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (LIBRARY / "profiles-down.yaml").read_text().replace("duration: 15s", "duration: 0s")
    )
    status, _, err = run(["run", str(bad)])
    assert status == ExitCode.INVALID_INPUT
    assert f"{bad}:" in err and "method[0].duration" in err


def test_a_deploy_of_an_unknown_mutant_is_refused_before_any_runtime_is_touched(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad-deploy.yaml"
    bad.write_text(
        (LIBRARY / "profiles-down.yaml")
        .read_text()
        .replace("fault: down,", "fault: deploy, env: {CHAOSBED_MUTANT: partial-sync-radio},")
    )
    status, _, err = run(["run", str(bad)])
    assert status == ExitCode.INVALID_INPUT
    assert "method[0].env.CHAOSBED_MUTANT: 'partial-sync-radio' is not a known mutant" in err


def test_a_missing_file_is_invalid_input(tmp_path: Path) -> None:
    status, _, err = run(["run", str(tmp_path / "nope.yaml")])
    assert status == ExitCode.INVALID_INPUT and "nope.yaml" in err


def test_a_network_fault_without_its_layer_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    experiment = tmp_path / "partition.yaml"
    experiment.write_text(
        (LIBRARY / "profiles-down.yaml")
        .read_text()
        .replace(
            "{fault: down, target: profiles, duration: 15s}",
            "{fault: partition, between: [[playback], [profiles]], duration: 15s}",
        )
    )
    status, _, err = run(["run", str(experiment), "--runtime", "process"])
    assert status == ExitCode.INVALID_INPUT
    assert "standin: allowed" in err


def test_the_docker_runtime_drives_network_faults_but_not_bandwidth_on_an_edge(
    tmp_path: Path,
) -> None:
    text = (LIBRARY / "profiles-down.yaml").read_text()
    down = "{fault: down, target: profiles, duration: 15s}"
    driven = text.replace(
        down, "{fault: partition, from: [playback], to: [profiles], duration: 5s}"
    )
    edge = text.replace(
        down, "{fault: bandwidth, edge: playback -> profiles, rate_kbit: 64, duration: 5s}"
    )
    assert runnable_problems(load_experiment_text(driven, tmp_path), "docker", "auto") == []
    assert runnable_problems(load_experiment_text(driven, tmp_path), "process", "auto") != []
    [problem] = runnable_problems(load_experiment_text(edge, tmp_path), "docker", "auto")
    assert "not on an edge" in problem


def test_a_promql_compared_metric_is_refused_on_the_scrape_backend(tmp_path: Path) -> None:
    path = LIBRARY / "catalog-title-errors-cohort-compared.yaml"
    experiment = load_experiment_text(path.read_text(), tmp_path)
    [problem] = runnable_problems(experiment, "process", "scrape")
    assert problem.startswith("compared metric catalog-errors: raw PromQL needs the prometheus")
    assert runnable_problems(experiment, "process", "prometheus") == []


def load_experiment_text(text: str, tmp_path: Path) -> Experiment:
    path = tmp_path / "experiment.yaml"
    path.write_text(text)
    return load_experiment(path)


def test_dry_run_prints_the_plan_with_each_query_and_touches_nothing(tmp_path: Path) -> None:
    def stopped_stack(choice: RuntimeChoice) -> Runtime:
        return ProcessRuntime(tmp_path / "state", prometheus=PrometheusOptions(binary="/nope"))

    path = LIBRARY / "catalog-popular-erroring.yaml"
    status, out, _ = run(["run", "--dry-run", str(path)], stopped_stack)
    assert status == ExitCode.OK
    assert "Plan: Catalog's popular list erroring" in out
    assert "chaosbed_member_requests_total" in out  # the SLO's query
    assert "targets: catalog" in out
    assert not (tmp_path / "state" / "runs").exists()
