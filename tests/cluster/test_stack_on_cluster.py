"""The stack on the one-machine Kubernetes cluster, as users run it: `chaosbed up
--runtime cluster` brings up three node containers (us, eu, apac), each with its
own Docker engine, a kubelet and kube-proxy, the control plane on this machine
and the generated manifests; experiments run on it with `chaosbed run`; `chaosbed
down` tears it down, leaving nothing behind. Brought up once for the module
(about a minute)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos.exitcodes import ExitCode
from chaos.experiment import load_experiment
from chaos.faults.network import leftovers as network_leftovers
from chaos.runtime.cluster.agents import AGENT
from chaos.runtime.cluster.attached import AttachedCluster
from chaos.runtime.cluster.cluster import NAMESPACE, OneMachineCluster, ready_pods
from chaos.runtime.cluster.control_plane import SERVICE_CIDR, ControlPlaneFailed
from chaos.runtime.cluster.helper_pods import HelperPods
from chaos.runtime.cluster.nodes import CLUSTER_LABEL, NODE_IMAGE
from chaos.runtime.cluster.pod_processes import scan
from chaos.runtime.cluster.runtime import DRAINED, NODE_HELPERS, PAUSE_HELD_S, ClusterRuntime
from chaos.runtime.errors import InstanceActionFailed
from services.topology import PROFILES_REPLICAS, SERVICES
from tests.chaos.experiments.library import (
    PREDICTED_EXIT,
    cluster_experiments,
    judged_alone_if_busy,
)
from tests.compose.compose_support import IMAGES, docker_client_or_fail, ensure_images
from tests.slots import alone_on_the_machine
from tests.waiting import until

#: Each test holds a stack slot, as any docker test does; the module's `up` and
#: `down` hold every slot. Held by the module from `up` to `down` instead, the slot
#: kept every test that wants all of them waiting for the whole module (13-18 min),
#: and the others behind it at the turnstile.
pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

REPO = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPO / "chaos" / "experiments"
#: The machine-wide kernel settings a kubelet would change (it must not).
SYSCTLS = ("kernel/panic", "kernel/panic_on_oops", "vm/overcommit_memory")
POLL: dict[str, float] = {"timeout_s": 90.0, "every_s": 0.5}


def sysctls() -> dict[str, str]:
    return {name: Path("/proc/sys", name).read_text().strip() for name in SYSCTLS}


def chaosbed(
    state: Path, *args: str, timeout_s: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHAOSBED_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "chaos", *args, "--state-dir", str(state)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        env=environ,
        cwd=state.parent,
    )


def leftovers(runtime: ClusterRuntime) -> dict[str, str]:
    """What of the cluster is still on the machine: containers, volumes, the network,
    routes, control plane processes."""
    cluster = runtime.cluster
    assert isinstance(cluster, OneMachineCluster)
    layout = cluster.layout

    def run(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()

    label = f"{CLUSTER_LABEL}={layout.name}"
    found = {
        "containers": run("docker", "ps", "-aq", "--filter", f"label={label}"),
        "volumes": " ".join(
            volume
            for volume in run("docker", "volume", "ls", "-q").split()
            if volume in {f"{node.container}-docker" for node in layout.nodes}
        ),
        "network": run("docker", "network", "ls", "-q", "--filter", f"name={layout.network}"),
        "routes": run("ip", "route", "show", "via", layout.nodes[0].address),
        "processes": ", ".join(cluster.plane.running()),
    }
    return {what: text for what, text in found.items() if text}


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    ensure_images(docker_client_or_fail(), cluster=True, images=(*IMAGES, NODE_IMAGE))
    before = sysctls()
    state = tmp_path_factory.mktemp("cluster") / ".chaosbed"
    # `up` loads gigabytes of images into three nodes and `down` stops them: beside
    # them other stacks' objectives read the machine (an evening peak's p99 1.4 s
    # against 500 ms, a replication experiment's homepages at 39%). A module fixture
    # is set up before the first test takes its slot and torn down after the last
    # gave its back: here this process holds none.
    try:
        with alone_on_the_machine(regain=False):
            up = chaosbed(state, "up", "--runtime", "cluster")
        assert up.returncode == 0, up.stdout + up.stderr
        yield state
    finally:
        with alone_on_the_machine(regain=False):
            down = chaosbed(state, "down")
        assert down.returncode == 0, down.stdout + down.stderr
    assert leftovers(ClusterRuntime(state)) == {}
    assert sysctls() == before


@pytest.fixture
def cluster(state: Path) -> OneMachineCluster:
    cluster = ClusterRuntime(state).cluster
    assert isinstance(cluster, OneMachineCluster)
    return cluster


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


def send(method: str, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.load(answer)


def service_url(cluster: OneMachineCluster, name: str) -> str:
    service = cluster.plane.api("GET", f"/api/v1/namespaces/{NAMESPACE}/services/{name}")
    return f"http://{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"


def pods_of(cluster: OneMachineCluster, name: str) -> list[dict[str, Any]]:
    return [
        pod
        for pod in cluster.pods()
        if pod["metadata"]["labels"].get("app.kubernetes.io/name") == name
    ]


def test_each_profiles_replica_runs_on_its_regions_node_and_the_stateless_pods_spread(
    state: Path, cluster: OneMachineCluster
) -> None:
    node_of_region = {node.region: node.name for node in cluster.layout.nodes}
    for region, replica in PROFILES_REPLICAS.items():
        (pod,) = pods_of(cluster, replica)
        assert pod["spec"]["nodeName"] == node_of_region[region]
        assert pod["status"]["phase"] == "Running"
    stateless = [s.name for s in SERVICES.values() if s.region is None]
    assert stateless
    for name in stateless:
        pods = pods_of(cluster, name)
        assert len(pods) == 2
        assert len({pod["spec"]["nodeName"] for pod in pods}) == 2, name


async def test_prometheus_in_the_cluster_scrapes_every_pod_the_api_lists(
    cluster: OneMachineCluster,
) -> None:
    prometheus = service_url(cluster, "prometheus")

    def scraped() -> dict[str, tuple[str, str, str]]:
        targets = get(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
        return {
            t["labels"]["pod"]: (t["labels"]["job"], t["labels"]["node"], t["health"])
            for t in targets
            if "pod" in t["labels"]
        }

    expected = {
        pod["metadata"]["name"]: (
            pod["metadata"]["labels"]["app.kubernetes.io/name"],
            pod["spec"]["nodeName"],
            "up",
        )
        for pod in cluster.pods()
        if pod["metadata"]["labels"].get("app.kubernetes.io/part-of") == "chaosbed"
    }
    assert len(expected) == 3 * 2 + len(PROFILES_REPLICAS)
    await until(lambda: scraped() == expected, what="every pod scraped, up", **POLL)


async def test_a_write_in_eu_reaches_the_us_replica_on_another_node(
    cluster: OneMachineCluster,
) -> None:
    member = f"m-{uuid.uuid4().hex[:8]}"
    written = send(
        "PATCH",
        f"{service_url(cluster, 'profiles-eu')}/profiles/{member}",
        {"languages": ["fr"]},
        {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert written["version"] == 1
    us = service_url(cluster, "profiles")
    await until(
        lambda: get(f"{us}/profiles/{member}")["version"] == 1, what="the write in us", **POLL
    )
    assert get(f"{us}/profiles/{member}")["preferences"]["languages"] == ["fr"]


async def test_a_started_playback_crosses_the_nodes(cluster: OneMachineCluster) -> None:
    playback = service_url(cluster, "playback")
    for title in range(1, 7):  # the Service spreads them over both pods
        started = send("POST", f"{playback}/playback/start", {"member": "m1", "title": title})
        assert started["title"] == title and started["manifest"]["url"]


async def test_a_deleted_pod_is_replaced_and_discovered(cluster: OneMachineCluster) -> None:
    (victim, _) = sorted(pod["metadata"]["name"] for pod in pods_of(cluster, "catalog"))
    cluster.plane.api(
        "DELETE", f"/api/v1/namespaces/{NAMESPACE}/pods/{victim}", {"gracePeriodSeconds": 0}
    )

    def replaced() -> bool:
        names = {pod["metadata"]["name"] for pod in pods_of(cluster, "catalog")}
        return victim not in names and len(ready_pods(pods_of(cluster, "catalog"))) == 2

    await until(replaced, what="the deleted pod replaced, both Ready", **POLL)
    prometheus = service_url(cluster, "prometheus")
    current = {pod["metadata"]["name"] for pod in pods_of(cluster, "catalog")}

    def discovered() -> bool:
        targets = get(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
        scraped = {t["labels"]["pod"] for t in targets if t["labels"].get("job") == "catalog"}
        return scraped == current

    await until(discovered, what="Prometheus scraping the replacement", **POLL)


AGENTS = f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector=app.kubernetes.io/name%3D{AGENT}"


def agent_pods(cluster: OneMachineCluster | AttachedCluster) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = cluster.plane.api("GET", AGENTS)["items"]
    return found


def test_each_node_s_agent_reads_its_pods_processes_as_the_node_sees_them(state: Path) -> None:
    """Every service pod's pid and state come from the node agent on its node, asked
    through the API server's proxy as the runner: the pid is the one its node's
    process namespace gives the main process, as this machine's /proc shows it (a
    process's NSpid: this machine's pid, the node's, the container's 1)."""
    runtime = ClusterRuntime(state)
    agents = agent_pods(runtime.cluster)
    nodes = sorted(pod["spec"]["nodeName"] for pod in agents)
    assert nodes == sorted(node.name for node in runtime.layout.nodes)
    assert len(ready_pods(agents)) == len(agents)
    instances = asyncio.run(runtime.instances())
    assert len(instances) == len(SERVICES) + len(
        [s for s in SERVICES.values() if s.region is None]
    )  # two pods of each stateless service, one of each replica
    here = scan({i.container_id for i in instances if i.container_id}).containers
    for instance in instances:
        assert instance.state == "running" and instance.container_id, instance
        host = here[instance.container_id].main
        assert host is not None, instance
        nspid = next(
            line.split()[1:]
            for line in Path(f"/proc/{host}/status").read_text().splitlines()
            if line.startswith("NSpid:")
        )
        assert nspid[-1] == "1" and instance.pid == int(nspid[-2]), (instance, nspid)


def test_with_no_node_agent_no_process_is_known_and_none_is_acted_on(state: Path) -> None:
    """The agents gone (their DaemonSet placed on no node): each pod the API says runs
    is `running` with no pid and says why, and a kill or a pause is refused (nothing
    could verify it) rather than done blind. The agents come back after."""
    runtime = ClusterRuntime(state)
    admin = ClusterRuntime(state).cluster.plane
    admin.bearer = None  # the runner may not change a DaemonSet
    daemonset = f"/apis/apps/v1/namespaces/{NAMESPACE}/daemonsets/{AGENT}"

    def place(selector: dict[str, str] | None) -> None:
        body = {"spec": {"template": {"spec": {"nodeSelector": selector}}}}
        admin.api("PATCH", daemonset, body, patch=True)

    place({"chaosbed.io/region": "nowhere"})
    try:
        asyncio.run(until(lambda: agent_pods(runtime.cluster) == [], what="no agent", **POLL))
        instances = asyncio.run(runtime.instances())
        assert instances and all(
            i.state == "running" and i.pid is None and "no node agent" in i.detail
            for i in instances
        ), instances
        victim = instances[0].instance
        for action in (runtime.kill, runtime.pause):
            with pytest.raises(InstanceActionFailed, match="no node agent"):
                asyncio.run(action(victim))
        assert pause_helpers(runtime.cluster) == []
    finally:
        place(None)
        asyncio.run(
            until(
                lambda: len(ready_pods(agent_pods(runtime.cluster))) == len(runtime.layout.nodes),
                what="an agent Ready on each node again", **POLL,
            )
        )  # fmt: skip
    assert all(i.pid for i in asyncio.run(runtime.instances()))


def test_status_names_every_service_ready_with_its_pods_and_nodes(state: Path) -> None:
    status = chaosbed(state, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    for name in [*SERVICES, "prometheus"]:
        (row,) = [line for line in status.stdout.splitlines() if line.split()[:1] == [name]]
        assert "running" in row and "ready" in row, row
    assert "catalog: 2/2 pods ready: catalog-" in status.stdout
    assert "profiles-eu: 1/1 pods ready: profiles-eu-0 on chaosbed-eu" in status.stdout


def journal_of(run: subprocess.CompletedProcess[str], state: Path) -> dict[str, Any]:
    (line,) = [line for line in run.stdout.splitlines() if line.startswith("journal: ")]
    journal: dict[str, Any] = json.loads((state.parent / line.split(": ", 1)[1]).read_text())
    return journal


def judged_alone(
    cluster: OneMachineCluster,
    state: Path,
    path: Path,
    attempt: Callable[[], subprocess.CompletedProcess[str]],
    record: Callable[[str, object], None],
) -> subprocess.CompletedProcess[str]:
    """`attempt()`, a run of the experiment at `path` on the cluster; run again holding
    every slot when this test did not hold all of them and load can explain its
    verdict (`judged_alone_if_busy`), once nothing of the first is left and the stack
    is Ready again."""

    def settled() -> bool:
        """Every node and every pod of the stack Ready (but a pod a delete left going,
        which the kubelet lets go of up to about 40 s later)."""
        staying = [p for p in cluster.pods() if not p["metadata"].get("deletionTimestamp")]
        nodes = {node.name for node in cluster.layout.nodes}
        return len(ready_pods(staying)) == len(staying) and cluster.nodes.ready_nodes() == nodes

    def left_clean(first: subprocess.CompletedProcess[str]) -> None:
        """Nothing of the first run is left and the stack is whole again before the
        second (its journal stays in the state directory under its run id)."""
        cleanup = chaosbed(state, "cleanup")
        assert cleanup.returncode == 0 and "removed:" not in cleanup.stdout, cleanup.stdout
        deadline = time.monotonic() + 90
        while not settled():
            assert time.monotonic() < deadline, "the stack not Ready 90 s after the first run"
            time.sleep(1)

    return judged_alone_if_busy(
        path,
        attempt,
        lambda run: run.returncode,
        lambda run: journal_of(run, state),
        left_clean,
        record,
        how="holding every slot",
    )


def restarts(cluster: OneMachineCluster, name: str) -> dict[str, int]:
    return {
        pod["metadata"]["name"]: pod["status"]["containerStatuses"][0]["restartCount"]
        for pod in pods_of(cluster, name)
    }


def test_killed_recommendations_pods_are_restarted_by_their_kubelets_and_members_carry_on(
    state: Path, cluster: OneMachineCluster, record_property: Callable[[str, object], None]
) -> None:
    path = EXPERIMENTS / "recommendations-killed.yaml"
    counts: list[dict[str, int]] = []

    def attempt() -> subprocess.CompletedProcess[str]:
        counts.append(restarts(cluster, "recommendations"))
        return chaosbed(state, "run", str(path))

    run = judged_alone(cluster, state, path, attempt, record_property)
    assert run.returncode == ExitCode.HELD, run.stdout + run.stderr
    before = counts[-1]
    (fault,) = journal_of(run, state)["faults"]
    killed = {record["ident"]: record["pid"] for record in fault["handle"]["instances"]}
    assert set(killed) == set(before)  # every pod of it, each found by its pid on its node
    assert all(isinstance(pid, int) and pid > 1 for pid in killed.values())
    assert "member journeys entering recommendations" in fault["effect"]
    after = restarts(cluster, "recommendations")
    assert {pod: after[pod] - before[pod] for pod in before} == {pod: 1 for pod in before}


def test_paused_playback_breaks_the_play_slo_as_predicted_and_is_resumed(
    state: Path, cluster: OneMachineCluster, record_property: Callable[[str, object], None]
) -> None:
    path = EXPERIMENTS / "playback-paused.yaml"
    run = judged_alone(
        cluster, state, path, lambda: chaosbed(state, "run", str(path)), record_property
    )
    assert run.returncode == ExitCode.DEVIATED, run.stdout + run.stderr
    journal = journal_of(run, state)
    assert journal["verdict"] == "deviated"
    (fault,) = journal["faults"]
    assert fault["verification"].startswith("pause seen on playback/playback-")
    assert fault["rollback"] == "playback resumed and ready"
    assert len(ready_pods(pods_of(cluster, "playback"))) == 2
    assert pause_helpers(cluster) == []  # each deleted by its unpause, its object gone


def pause_helpers(cluster: OneMachineCluster | AttachedCluster) -> list[str]:
    return [
        pod["metadata"]["name"]
        for pod in HelperPods(cluster.plane, NODE_HELPERS).listed()
        if pod["metadata"]["name"].startswith("chaosbed-pause-")
    ]


@pytest.mark.parametrize(
    "path", cluster_experiments(), ids=lambda path: path.stem if isinstance(path, Path) else path
)
def test_each_cluster_experiment_gives_its_predicted_verdict_and_rolls_back(
    state: Path,
    cluster: OneMachineCluster,
    path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    predicted = load_experiment(path).predicts
    run = judged_alone(
        cluster, state, path, lambda: chaosbed(state, "run", str(path)), record_property
    )
    assert run.returncode == PREDICTED_EXIT[predicted], run.stdout + run.stderr
    journal = journal_of(run, state)
    for fault in journal["faults"]:
        assert fault["verification"] and fault["effect"] and fault["rollback"], fault
    for expectation in journal["expectations"]:
        assert expectation["met"], expectation
    # rolled back: every node and pod of the stack Ready, no cut and no helper left
    staying = [pod for pod in cluster.pods() if not pod["metadata"].get("deletionTimestamp")]
    assert len(ready_pods(staying)) == len(staying)
    assert cluster.nodes.ready_nodes() == {node.name for node in cluster.layout.nodes}
    cleanup = chaosbed(state, "cleanup")
    assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
    assert "removed:" not in cleanup.stdout, cleanup.stdout


def cuts_on(node: str) -> list[str]:
    """The cut chains in a node's network namespace, as its own iptables lists them."""
    rules = subprocess.run(
        ["docker", "exec", node, "iptables", "-w", "-S"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    return [line.split()[1] for line in rules.splitlines() if line.startswith("-N CHAOSBED-CUT-")]


def held_long(experiment: Path, where: Path) -> Path:
    """A copy of `experiment` in `where` whose faults last 10 minutes and whose steady
    state asks 1%: what a killed runner leaves is judged, not the stack. With the
    library's 15-20 s a TTL helper ended a partition in one pod before cleanup came to
    it (a grading-size run: the next run's refusal and cleanup's own look took over
    30 s); a 97% steady state beside other stacks can end the run before any fault."""
    document = yaml.safe_load(experiment.read_text())
    for step in document["method"]:
        step["duration"] = "600s"
    for slo in document["steady_state"]["slos"]:
        slo["objective"] = 1
    copy = where / experiment.name
    copy.write_text(yaml.safe_dump(document, sort_keys=False))
    return copy


def kill_runner_once(state: Path, experiment: Path, seen: Callable[[], bool], what: str) -> None:
    """Run `experiment` and SIGKILL its runner (no rollback at all) once `seen()`: its
    fault is in place."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHAOSBED_")}
    runner = subprocess.Popen(
        [sys.executable, "-m", "chaos", "run", str(experiment), "--state-dir", str(state)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environ, cwd=state.parent,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not seen():
            assert runner.poll() is None, f"the run ended before {what} was seen"
            assert time.monotonic() < deadline, f"no {what} within 90 s"
            time.sleep(0.5)
    finally:
        runner.kill()
        runner.wait(timeout=30)


def test_a_cut_left_by_a_killed_runner_is_found_and_removed_by_cleanup(
    state: Path, cluster: OneMachineCluster, tmp_path: Path
) -> None:
    experiment = held_long(EXPERIMENTS / "cluster-region-cut-off.yaml", tmp_path)
    kill_runner_once(state, experiment, lambda: bool(cuts_on("chaosbed-apac")), "cut on apac")
    nodes = ClusterRuntime(state).nodes
    assert cuts_on("chaosbed-apac")
    assert not asyncio.run(nodes.reaches("apac", "us"))  # still cut

    again = chaosbed(state, "run", str(experiment))
    assert again.returncode == ExitCode.INFRASTRUCTURE_FAILED, again.stdout + again.stderr
    assert "chaosbed cleanup" in again.stdout + again.stderr
    cleanup = chaosbed(state, "cleanup")

    assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
    assert "node chaosbed-apac (apac): the cut CHAOSBED-CUT-" in cleanup.stdout
    assert cuts_on("chaosbed-apac") == []
    assert asyncio.run(nodes.reaches("apac", "us")) and asyncio.run(nodes.reaches("us", "apac"))


def test_a_partition_between_pods_left_by_a_killed_runner_is_removed_by_cleanup(
    state: Path, cluster: OneMachineCluster, tmp_path: Path
) -> None:
    """The network faults in the pods' namespaces: a runner SIGKILLed mid-partition
    leaves its chains in every playback pod (on two nodes) and their TTL helpers on
    the pods' nodes; the next run refuses to start, cleanup removes them all. (The
    partition made to last two minutes: with the library's 15 s, its TTL helpers
    removed the chains, as they should, before cleanup came to them.)"""
    network = ClusterRuntime(state).network
    playback = {pod["metadata"]["name"] for pod in pods_of(cluster, "playback")}
    experiment = held_long(EXPERIMENTS / "playback-profiles-partition.yaml", tmp_path)

    def holders() -> set[str]:
        found, _ = asyncio.run(network_leftovers.find(network))
        return {left.namespace.container for left in found if left.chains and left.jumps}

    kill_runner_once(state, experiment, lambda: holders() == playback, "partition in both pods")
    # a TTL helper per pod, on its node (and the killed runner's probes, never removed)
    helpers = asyncio.run(network.helpers())
    assert len([name for name in helpers if name.startswith("chaosbed-ttl-")]) == 2, helpers
    pods = {ns.container: ns for ns in asyncio.run(network.all())}
    assert {pods[name].host for name in playback} == {
        pod["spec"]["nodeName"] for pod in pods_of(cluster, "playback")
    }

    again = chaosbed(state, "run", str(experiment))
    assert again.returncode == ExitCode.INFRASTRUCTURE_FAILED, again.stdout + again.stderr
    assert "chaosbed cleanup" in again.stdout + again.stderr
    cleanup = chaosbed(state, "cleanup")

    assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
    for name in playback:
        assert f"playback ({name}): iptables chain cb-" in cleanup.stdout, cleanup.stdout
    assert holders() == set()
    assert asyncio.run(network.helpers()) == []


def test_a_pause_left_by_a_killed_runner_is_found_and_resumed_by_cleanup(
    state: Path, cluster: OneMachineCluster, tmp_path: Path
) -> None:
    """A runner SIGKILLed mid-pause leaves playback's processes stopped and the helper
    pods holding them (which would resume them by themselves, PAUSE_HELD_S after they
    started); cleanup, well before that, finds both and resumes them."""
    runtime = ClusterRuntime(state)
    document = yaml.safe_load((EXPERIMENTS / "playback-paused.yaml").read_text())
    for slo in document["steady_state"]["slos"]:
        slo["objective"] = 1  # a killed runner's leftovers judged, not the stack
    experiment = tmp_path / "playback-paused.yaml"
    experiment.write_text(yaml.safe_dump(document, sort_keys=False))
    playback = {pod["metadata"]["name"] for pod in pods_of(cluster, "playback")}

    def paused() -> set[str]:
        found = asyncio.run(runtime.instances("playback"))
        return {instance.instance for instance in found if instance.state == "paused"}

    kill_runner_once(state, experiment, lambda: paused() == playback, "both playback pods paused")
    killed = time.monotonic()
    assert paused() == playback  # left stopped: what cleanup must undo (and a run refuse)
    assert len(pause_helpers(cluster)) == 2

    cleanup = chaosbed(state, "cleanup")
    took = time.monotonic() - killed

    assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
    assert took < PAUSE_HELD_S, f"cleanup ended {took:.0f}s after the kill: its helpers resumed?"
    assert cleanup.stdout.count("helper pod chaosbed-pause-") == 2, cleanup.stdout
    assert paused() == set()
    assert pause_helpers(cluster) == []
    asyncio.run(
        until(
            lambda: len(ready_pods(pods_of(cluster, "playback"))) == 2,
            what="both playback pods Ready again", **POLL,
        )
    )  # fmt: skip


def test_a_node_left_cordoned_by_a_drain_is_found_and_uncordoned_by_cleanup(
    state: Path, cluster: OneMachineCluster
) -> None:
    """What a runner killed mid-drain leaves (the pods come back elsewhere by
    themselves; the node stays cordoned, marked as drained): the next run refuses,
    cleanup uncordons it. A cordon that is not chaosbed's is left alone."""
    node = next(n for n in cluster.layout.nodes if n.region == "apac")
    path = f"/api/v1/nodes/{node.name}"

    def cordon(marked: bool) -> None:
        annotations = {DRAINED: "1"} if marked else {}
        body = {"metadata": {"annotations": annotations}, "spec": {"unschedulable": True}}
        cluster.plane.api("PATCH", path, body, patch=True)

    def cordoned() -> tuple[bool, bool]:
        found = cluster.plane.api("GET", path)
        marks = found["metadata"].get("annotations") or {}
        return bool(found["spec"].get("unschedulable")), DRAINED in marks

    cordon(marked=True)
    try:
        again = chaosbed(state, "run", str(EXPERIMENTS / "cluster-node-drained-during-writes.yaml"))
        assert again.returncode == ExitCode.INFRASTRUCTURE_FAILED, again.stdout + again.stderr
        assert f"node {node.name} (apac) is cordoned by a drain" in again.stdout + again.stderr
        cleanup = chaosbed(state, "cleanup")
        assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
        assert f"node {node.name} (apac): uncordoned" in cleanup.stdout
        assert cordoned() == (False, False)
        cordon(marked=False)  # an operator's
        cleanup = chaosbed(state, "cleanup")
        assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
        assert cordoned() == (True, False)
    finally:
        unmarked = {"metadata": {"annotations": {DRAINED: None}}, "spec": {"unschedulable": None}}
        cluster.plane.api("PATCH", path, unmarked, patch=True)


def test_a_runner_attached_with_a_kubeconfig_drives_the_stack_through_the_api_alone(
    state: Path, cluster: OneMachineCluster, record_property: Callable[[str, object], None]
) -> None:
    """The one-machine cluster as a cluster a team already has: a runner given only a
    kubeconfig (the administrator's), with no Docker engine (DOCKER_HOST leads
    nowhere) and no route to the Services' addresses (removed meanwhile), attaches
    to it (applying the manifests again changes nothing; the control API's token is
    the Secret's), reaches the Services and Prometheus through the API server,
    pushes its members' metrics to Prometheus, kills recommendations' pods with the
    verdict predicted, refuses node_stop before anything is injected, and `down`
    deletes what it applied and leaves the nodes. Last in the module: the stack is
    gone after it (the module's `down` then removes the cluster)."""
    attached = state.parent.parent / "attached" / ".chaosbed"
    attached.parent.mkdir(parents=True, exist_ok=True)
    kubeconfig = state / "cluster" / "control-plane" / "admin.kubeconfig"
    nowhere = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    route = subprocess.run(
        ["ip", "route", "show", SERVICE_CIDR], capture_output=True, text=True, check=True
    ).stdout.split()
    assert route, "the one-machine cluster routes the Services' range through a node"
    subprocess.run(["ip", "route", "del", SERVICE_CIDR], check=True)
    try:
        up = chaosbed(attached, "up", "--runtime", "cluster", "--kubeconfig", str(kubeconfig),
                      env=nowhere)  # fmt: skip
        assert up.returncode == 0, up.stdout + up.stderr
        assert (attached / "token").read_text() == (state / "token").read_text()
        runtime = ClusterRuntime(attached)
        assert runtime.attachment is not None
        assert runtime.base_url("playback").startswith("http://127.0.0.1:")
        status = chaosbed(attached, "status", env=nowhere)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "2/2 pods ready" in status.stdout

        lost = EXPERIMENTS / "cluster-node-lost-during-writes.yaml"
        refused = chaosbed(attached, "run", str(lost), env=nowhere)
        assert refused.returncode == ExitCode.INVALID_INPUT, refused.stdout + refused.stderr
        assert "node_stop fault is not possible here" in refused.stdout + refused.stderr

        path = EXPERIMENTS / "recommendations-killed.yaml"
        counts: list[dict[str, int]] = []

        def attempt() -> subprocess.CompletedProcess[str]:
            counts.append(restarts(cluster, "recommendations"))
            return chaosbed(attached, "run", str(path), env=nowhere)

        run = judged_alone(cluster, attached, path, attempt, record_property)
        assert run.returncode == ExitCode.HELD, run.stdout + run.stderr
        (fault,) = journal_of(run, attached)["faults"]
        assert "member journeys entering recommendations" in fault["effect"]  # pushed
        after = restarts(cluster, "recommendations")
        assert {pod: after[pod] - counts[-1][pod] for pod in after} == {p: 1 for p in after}

        down = chaosbed(attached, "down", env=nowhere)
        assert down.returncode == 0, down.stdout + down.stderr
        cluster.plane.bearer = None  # the runner's account went with the namespace
        with pytest.raises(ControlPlaneFailed, match="HTTP 404"):
            cluster.plane.api("GET", f"/api/v1/namespaces/{NAMESPACE}")
        with pytest.raises(ControlPlaneFailed, match="HTTP 404"):
            cluster.plane.api(
                "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/chaosbed-runner"
            )
        assert cluster.nodes.ready_nodes() == {node.name for node in cluster.layout.nodes}
        assert not (attached / "cluster" / "attached.json").exists()
    finally:
        subprocess.run(["ip", "route", "replace", SERVICE_CIDR, *route[1:]], check=True)
