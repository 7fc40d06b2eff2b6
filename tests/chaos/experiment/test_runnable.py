"""Whether a runtime can run an experiment, and the stand-ins for network faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.cli.runtime_options import capabilities_of
from chaos.experiment import (
    Capabilities,
    ExperimentError,
    check_runnable,
    has_netem,
    load_experiment_text,
    standin_faults,
)
from chaos.experiment.model import AppFault, Edge, Experiment, NetworkFault
from chaos.experiment.runnable import uses_standin
from chaos.faults.network import DRIVEN

# the process runtime has no network layer; the docker runtime drives DRIVEN on its own
PROCESS = Capabilities(netem=False, network_kinds=frozenset())
DOCKER = Capabilities(netem=False, network_kinds=frozenset(DRIVEN))
DOCKER_NETEM = Capabilities(netem=True, network_kinds=frozenset(DRIVEN))
# the cluster runtime kills and pauses pods' containers and drives the network faults
CLUSTER = capabilities_of("cluster")


def experiment(*steps: str, extra: str = "") -> Experiment:
    method = "".join(f"  - {step}\n" for step in steps)
    return load_experiment_text(
        "title: t\nhypothesis: h\n"
        "steady_state: {slos: [{name: ok, availability: playback, objective: 99}]}\n"
        f"method:\n{method}{extra}"
    )


def test_application_and_process_faults_run_in_both_runtimes() -> None:
    plain = experiment(
        "{fault: kill, target: catalog, duration: 5s}",
        "{fault: latency, edge: playback -> catalog, delay_ms: 50, duration: 5s}",
    )
    assert check_runnable(plain, "process", PROCESS) == []
    assert check_runnable(plain, "docker", DOCKER) == []


def test_network_faults_are_refused_in_the_process_runtime_without_standin() -> None:
    net = experiment("{fault: partition, between: [[playback], [profiles]], duration: 5s}")
    (problem,) = check_runnable(net, "process", PROCESS)
    assert problem.where == "method[0] (1-partition)"
    assert "--runtime docker" in problem.message and "standin: allowed" in problem.message
    assert check_runnable(net, "docker", DOCKER) == []


def test_network_faults_with_standin_allowed_run_in_the_process_runtime() -> None:
    net = experiment(
        "{fault: partition, from: [playback], to: [profiles], standin: allowed, duration: 5s}",
        "{fault: isolate, target: catalog, standin: allowed, duration: 5s}",
        "{fault: loss, target: profiles, percent: 20, standin: allowed, duration: 5s}",
    )
    assert check_runnable(net, "process", PROCESS) == []


def test_bandwidth_has_no_standin_and_needs_docker() -> None:
    net = experiment(
        "{fault: bandwidth, target: catalog, rate_kbit: 64, standin: allowed, duration: 5s}"
    )
    (problem,) = check_runnable(net, "process", PROCESS)
    assert "no application-layer stand-in" in problem.message
    assert check_runnable(net, "docker", DOCKER) == []


def test_netem_latency_without_sch_netem_is_refused_naming_the_latency_fault() -> None:
    net = experiment("{fault: netem_latency, target: catalog, delay_ms: 100, duration: 5s}")
    (problem,) = check_runnable(net, "docker", DOCKER)
    assert "sch_netem" in problem.message and "{fault: latency," in problem.message
    (in_process,) = check_runnable(
        net, "process", Capabilities(netem=True, network_kinds=frozenset())
    )
    assert "{fault: latency," in in_process.message
    # with sch_netem, still no driver: chaosbed drives netem_latency only as its stand-in
    (no_driver,) = check_runnable(net, "docker", DOCKER_NETEM)
    assert "no network-layer driver in the docker runtime" in no_driver.message
    assert "standin: allowed" in no_driver.message and "{fault: latency," in no_driver.message


def test_netem_latency_with_standin_runs_as_application_latency_netem_or_not() -> None:
    net = experiment(
        "{fault: netem_latency, target: catalog, delay_ms: 100, standin: allowed, duration: 5s}"
    )
    assert check_runnable(net, "docker", DOCKER) == []
    assert check_runnable(net, "docker", DOCKER_NETEM) == []
    (step,) = net.method
    assert uses_standin(step, DOCKER) and uses_standin(step, DOCKER_NETEM)


def test_a_driven_kind_runs_on_the_network_layer_even_where_a_standin_is_allowed() -> None:
    net = experiment("{fault: loss, target: profiles, percent: 20, standin: allowed, duration: 5s}")
    (step,) = net.method
    assert not uses_standin(step, DOCKER)
    assert uses_standin(step, PROCESS)


def test_bandwidth_is_limited_on_a_target_not_on_an_edge() -> None:
    on_edge = experiment(
        "{fault: bandwidth, edge: playback -> profiles, rate_kbit: 64, duration: 5s}"
    )
    (problem,) = check_runnable(on_edge, "docker", DOCKER)
    assert "not on an edge: use `target:`" in problem.message


def test_an_experiment_limited_to_some_runtimes_is_refused_elsewhere() -> None:
    only_docker = experiment(
        "{fault: kill, target: catalog, duration: 5s}", extra="runtimes: [docker]\n"
    )
    (problem,) = check_runnable(only_docker, "process", PROCESS)
    assert problem.where == "runtimes" and "docker only" in problem.message
    assert check_runnable(only_docker, "docker", DOCKER) == []


def test_an_unknown_runtime_is_a_problem() -> None:
    plain = experiment("{fault: kill, target: catalog, duration: 5s}")
    (problem,) = check_runnable(plain, "k8s", PROCESS)
    assert problem.where == "runtime"


# ---------------------------------------------------------------- stand-ins


def test_a_partition_stands_in_as_drops_on_every_call_across_it_both_ways() -> None:
    both = NetworkFault("partition", between=(("profiles",), ("playback", "catalog")))
    assert standin_faults(both) == (AppFault("drop", edge=Edge("playback", "profiles")),)


def test_a_one_way_partition_stands_in_as_drops_in_its_direction_only() -> None:
    cut = NetworkFault("partition", from_=("recommendations",), to=("catalog",))
    assert standin_faults(cut) == (AppFault("drop", edge=Edge("recommendations", "catalog")),)
    other_way = NetworkFault("partition", from_=("catalog",), to=("recommendations",))
    assert standin_faults(other_way) == ()  # catalog calls nobody: nothing to cut


def test_isolate_drops_what_the_service_receives_and_every_call_it_makes() -> None:
    rules = standin_faults(NetworkFault("isolate", target="playback"))
    assert rules == (
        AppFault("drop", target="playback"),
        AppFault("drop", edge=Edge("playback", "profiles")),
        AppFault("drop", edge=Edge("playback", "catalog")),
    )


def test_loss_and_netem_latency_stand_in_with_their_percent_and_delay() -> None:
    loss = standin_faults(NetworkFault("loss", edge=Edge("playback", "catalog"), percent=30))
    assert loss == (AppFault("drop", edge=Edge("playback", "catalog"), percent=30),)
    slow = standin_faults(NetworkFault("netem_latency", target="catalog", delay_ms=80, jitter_ms=5))
    assert slow == (AppFault("latency", target="catalog", delay_ms=80, jitter_ms=5),)


def test_bandwidth_has_no_standin() -> None:
    assert standin_faults(NetworkFault("bandwidth", target="catalog", rate_kbit=64)) is None


# ---------------------------------------------------------------- sch_netem


def never(module: str) -> bool:
    return False


def test_netem_is_found_when_the_module_is_loaded(tmp_path: Path) -> None:
    (tmp_path / "sys/module/sch_netem").mkdir(parents=True)
    assert has_netem(tmp_path, never)


def test_netem_is_found_in_proc_modules(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/modules").write_text("sch_htb 1 0 - Live 0x0\nsch_netem 2 0 - Live 0x0\n")
    assert has_netem(tmp_path, never)


@pytest.mark.parametrize("loadable", [True, False])
def test_otherwise_netem_is_there_only_when_modprobe_can_load_it(
    tmp_path: Path, loadable: bool
) -> None:
    asked: list[str] = []

    def modprobe(module: str) -> bool:
        asked.append(module)
        return loadable

    assert has_netem(tmp_path, modprobe) is loadable
    assert asked == ["sch_netem"]


def test_a_monkey_that_may_partition_runs_only_where_the_runtime_drives_the_network() -> None:
    partitioning = experiment("{fault: monkey, menu: {kill: 1, partition: 1}, duration: 30s}")
    (problem,) = check_runnable(partitioning, "process", PROCESS)
    assert problem.where == "method[0] (1-monkey)"
    assert "partition needs --runtime docker" in problem.message
    assert check_runnable(partitioning, "docker", DOCKER) == []
    plain = experiment("{fault: monkey, menu: {kill: 1}, duration: 30s}")
    assert check_runnable(plain, "process", PROCESS) == []


def test_the_cluster_runtime_runs_kill_and_pause_and_refuses_the_kinds_it_cannot_do() -> None:
    runs = experiment(
        "{fault: kill, target: catalog, duration: 5s}",
        "{fault: pause, target: playback, duration: 5s}",
    )
    assert check_runnable(runs, "cluster", CLUSTER) == []
    for kind in ("down", "stop", "restart"):
        refused = experiment(f"{{fault: {kind}, target: catalog, duration: 5s}}")
        (problem,) = check_runnable(refused, "cluster", CLUSTER)
        assert problem.message.startswith(f"a {kind} fault is not possible in the cluster")
        assert check_runnable(refused, "process", PROCESS) == []


def test_the_cluster_runtime_refuses_app_faults_and_stand_ins_that_would_reach_one_pod() -> None:
    for step in (
        "{fault: latency, edge: playback -> catalog, delay_ms: 50, duration: 5s}",
        "{fault: netem_latency, target: catalog, delay_ms: 50, standin: allowed, duration: 5s}",
    ):
        (problem,) = check_runnable(experiment(step), "cluster", CLUSTER)
        assert "would reach one of its pods" in problem.message, step
        assert check_runnable(experiment(step), "process", PROCESS) == []


def test_the_cluster_drives_the_network_faults_in_the_pods_namespaces() -> None:
    steps = (
        "{fault: partition, between: [[playback], [profiles]], duration: 5s}",
        "{fault: partition, from: [recommendations], to: [catalog], duration: 5s}",
        "{fault: isolate, target: catalog, standin: allowed, duration: 5s}",
        "{fault: loss, target: catalog, percent: 30, duration: 5s}",
        "{fault: bandwidth, target: recommendations, rate_kbit: 64, duration: 5s}",
    )
    assert check_runnable(experiment(*steps), "cluster", CLUSTER) == []
    assert not any(uses_standin(step, CLUSTER) for step in experiment(*steps).method)


def test_node_faults_run_only_on_the_cluster() -> None:
    nodes = experiment(
        "{fault: node_stop, region: eu, duration: 20s}",
        "{fault: node_partition, region: apac, duration: 20s}",
    )
    assert check_runnable(nodes, "cluster", CLUSTER) == []
    for runtime, capabilities in (("process", PROCESS), ("docker", DOCKER)):
        problems = check_runnable(nodes, runtime, capabilities)
        assert [p.message for p in problems] == [
            f"a {kind} fault needs --runtime cluster (the {runtime} runtime has no nodes)"
            for kind in ("node_stop", "node_partition")
        ]


def test_a_node_fault_names_a_region_of_the_topology() -> None:
    with pytest.raises(ExperimentError) as missing:
        experiment("{fault: node_stop, duration: 20s}")
    assert "method[0].region: is required: the region whose node it hits" in str(missing.value)
    with pytest.raises(ExperimentError) as unknown:
        experiment("{fault: node_partition, region: mars, duration: 20s}")
    assert "us, eu, apac" in str(unknown.value)
    with pytest.raises(ExperimentError) as misplaced:
        experiment("{fault: node_stop, region: eu, target: catalog, duration: 20s}")
    assert "does not apply to a node_stop fault (it takes: region)" in str(misplaced.value)


def test_the_cluster_refuses_a_pause_its_liveness_probe_would_end_early() -> None:
    (problem,) = check_runnable(
        experiment("{fault: pause, target: playback, duration: 12s}"), "cluster", CLUSTER
    )
    assert "a pause of 12s is longer than the cluster runtime keeps one (10s" in problem.message
    assert (
        check_runnable(
            experiment("{fault: pause, target: playback, duration: 12s}"), "process", PROCESS
        )
        == []
    )
