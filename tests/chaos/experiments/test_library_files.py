"""The experiment library: every file loads, says what it predicts, and
together they cover every service and both fault layers of the runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.cli.runtime_options import capabilities_of
from chaos.experiment import load_experiment
from chaos.experiment.model import SERVICES, AppFault, Experiment, NetworkFault, ProcessFault
from chaos.experiment.runnable import check_runnable
from chaos.gameday import load_gameday

from .library import (
    APPLICATION_LAYER_ON_DOCKER,
    EXPERIMENTS,
    LIBRARY,
    ON_PROCESS_ONLY,
    application_layer_only,
    cluster_experiments,
    experiments_for,
    played_by_suite,
)


def test_the_library_holds_at_least_eight_experiments() -> None:
    assert len(EXPERIMENTS) >= 8


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_each_experiment_loads_with_a_hypothesis_and_a_prediction(path: Path) -> None:
    experiment = load_experiment(path)
    assert len(experiment.hypothesis) > 40
    assert experiment.predicts in ("held", "deviated")
    assert path.read_text().count("predicts:") == 1, "the prediction is written, not defaulted"


@pytest.mark.parametrize(
    ("path", "runtime"),
    [
        *(
            (path, runtime)
            for runtime in ("process", "docker")
            for path in experiments_for(runtime)
        ),
        *((path, "cluster") for path in cluster_experiments()),
    ],
    ids=lambda p: p.stem if isinstance(p, Path) else p,
)
def test_each_experiment_runs_in_the_runtimes_it_names(path: Path, runtime: str) -> None:
    experiment = load_experiment(path)
    assert check_runnable(experiment, runtime, capabilities_of(runtime)) == []


def cluster_only() -> list[Path]:
    return [p for p in EXPERIMENTS if load_experiment(p).runtimes == ("cluster",)]


def test_every_experiment_runs_in_docker_and_only_network_ones_are_docker_only() -> None:
    on_one_machine = [p for p in EXPERIMENTS if p not in cluster_only()]
    assert experiments_for("docker") == on_one_machine
    for path in set(on_one_machine) - set(experiments_for("process")):
        faults = [step.fault for step in load_experiment(path).method]
        assert any(isinstance(f, NetworkFault) for f in faults), path.name


def test_the_suite_plays_every_experiment_and_on_docker_every_fault_docker_carries_out() -> None:
    """Each experiment is played somewhere; on docker, every one whose fault the runtime
    carries out (a kill, a pause, a network rule, a monkey) but the named monkey day,
    and the named application-layer ones, which exist and are application-layer."""
    played = {p for runtime in ("process", "docker") for p in played_by_suite(runtime)}
    assert played | set(cluster_experiments()) == set(EXPERIMENTS)
    assert played_by_suite("process") == experiments_for("process")
    on_docker = {p.stem for p in played_by_suite("docker")}
    runtime_layer = {p.stem for p in experiments_for("docker") if not application_layer_only(p)}
    assert on_docker >= runtime_layer - set(ON_PROCESS_ONLY)
    assert on_docker >= set(APPLICATION_LAYER_ON_DOCKER)
    assert all(application_layer_only(LIBRARY / f"{n}.yaml") for n in APPLICATION_LAYER_ON_DOCKER)
    assert {p.stem for p in experiments_for("process")} >= set(ON_PROCESS_ONLY)


def test_the_library_covers_the_network_faults_the_docker_runtime_drives() -> None:
    faults = [step.fault for path in EXPERIMENTS for step in load_experiment(path).method]
    network = [f for f in faults if isinstance(f, NetworkFault)]
    assert {f.kind for f in network} >= {"partition", "loss", "bandwidth"}
    assert any(f.kind == "partition" and f.between is None for f in network), "one-way"
    assert any(f.kind == "partition" and f.between is not None for f in network), "both ways"


def test_the_library_covers_every_service_and_both_fault_layers() -> None:
    faults = [step.fault for path in EXPERIMENTS for step in load_experiment(path).method]
    touched: set[str | None] = set()
    for fault in faults:
        if isinstance(fault, ProcessFault):
            touched.add(fault.target)
        elif isinstance(fault, AppFault):
            touched |= {fault.edge.caller, fault.edge.dependency} if fault.edge else {fault.target}
    assert touched >= set(SERVICES)
    assert any(isinstance(f, AppFault) for f in faults)
    assert any(isinstance(f, ProcessFault) for f in faults)
    kinds = {f.kind for f in faults}
    assert {"kill", "down", "pause", "restart", "latency", "error", "hang"} <= kinds
    predictions = {load_experiment(path).predicts for path in EXPERIMENTS}
    assert predictions == {"held", "deviated"}


@pytest.mark.parametrize(
    "path",
    EXPERIMENTS + sorted((LIBRARY.parent / "gamedays").glob("*.yaml")),
    ids=lambda p: p.stem,
)
def test_each_experiment_warms_up_for_at_least_its_longest_slo_window(path: Path) -> None:
    """Otherwise the steady-state check would judge the tail of the run before
    it (its faults, its recovery) when experiments run one after another."""
    if path.parent.name == "gamedays":
        experiments = [act.experiment for act in load_gameday(path).acts]
    else:
        experiments = [load_experiment(path)]
    for experiment in experiments:
        assert isinstance(experiment, Experiment), experiment.source
        windows = [slo.window for slo in experiment.steady_state.slos]
        assert experiment.steady_state.warmup >= max(windows), (experiment.title, windows)


def test_the_cluster_experiments_cover_its_node_and_network_faults() -> None:
    """At least three that only a cluster can run (node faults), and the network
    faults it drives in the pods' namespaces, each of which also runs in docker."""
    assert len(cluster_only()) >= 3
    kinds = set()
    for path in cluster_experiments():
        experiment = load_experiment(path)
        faults = [step.fault for step in experiment.method]
        if path not in cluster_only():
            assert experiment.runtimes == ("docker", "cluster"), path.name
            assert all(isinstance(f, NetworkFault) for f in faults), path.name
        kinds |= {fault.kind for fault in faults}
    assert {"node_stop", "node_partition", "partition", "loss", "bandwidth"} <= kinds
