"""The Kubernetes manifests (cluster/kubernetes), read as files against the topology."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.common.server import SHUTDOWN_TIMEOUT_S
from services.topology import EDGES, PROFILES_REPLICAS, SERVICES, url_variable

REPO = Path(__file__).resolve().parents[2]
KUBERNETES = REPO / "cluster" / "kubernetes"
REGION = "chaosbed.io/region"
NAME = "app.kubernetes.io/name"

Objects = dict[tuple[str, str], dict[str, Any]]


def load(name: str) -> Objects:
    documents = [d for d in yaml.safe_load_all((KUBERNETES / name).read_text()) if d]
    objects = {(d["kind"], d["metadata"]["name"]): d for d in documents}
    assert len(objects) == len(documents), f"{name}: two objects of one kind share a name"
    return objects


@pytest.fixture(scope="module")
def stack() -> Objects:
    return load("chaosbed.yaml")


@pytest.fixture(scope="module")
def volumes() -> Objects:
    return load("local-volumes.yaml")


def workload(stack: Objects, name: str) -> dict[str, Any]:
    found = [stack[(kind, name)] for kind in ("Deployment", "StatefulSet") if (kind, name) in stack]
    assert len(found) == 1, f"{name}: {len(found)} workloads"
    return found[0]


def containers(stack: Objects) -> Iterator[tuple[str, dict[str, Any]]]:
    for name in SERVICES:
        for container in workload(stack, name)["spec"]["template"]["spec"]["containers"]:
            yield name, container


def test_the_generated_manifests_match_the_topology() -> None:
    """cluster/kubernetes is written from services/topology.py: a change there
    without `make generate` fails here."""
    check = [sys.executable, str(REPO / "cluster" / "generate.py"), "--check"]
    done = subprocess.run(check, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_object_of_the_stack_is_in_its_namespace(stack: Objects) -> None:
    namespaced = [o for (kind, _), o in stack.items() if kind != "Namespace"]
    assert namespaced
    assert {o["metadata"].get("namespace") for o in namespaced} == {"chaosbed"}
    assert next(iter(stack)) == ("Namespace", "chaosbed")  # created before what it holds


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_service_runs_its_module_behind_a_service_of_its_name_and_port(
    stack: Objects, name: str
) -> None:
    service = SERVICES[name]
    pods = workload(stack, name)["spec"]
    labels = pods["template"]["metadata"]["labels"]
    assert pods["selector"]["matchLabels"].items() <= labels.items()
    (container,) = pods["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", service.module]
    assert {"name": "http", "containerPort": service.port} in container["ports"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["CHAOSBED_PORT"] == str(service.port)
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"

    front = stack[("Service", name)]["spec"]
    assert front["selector"].items() <= labels.items()
    assert front["ports"] == [{"name": "http", "port": service.port, "targetPort": "http"}]
    # no other service's pods answer behind it
    others = [
        workload(stack, other)["spec"]["template"]["metadata"]["labels"]
        for other in SERVICES
        if other != name
    ]
    assert not any(front["selector"].items() <= theirs.items() for theirs in others)


def test_every_call_of_the_topology_reaches_a_service_on_its_port(stack: Objects) -> None:
    services = {
        name: [p["port"] for p in o["spec"]["ports"]]
        for (kind, name), o in stack.items()
        if kind == "Service"
    }
    for caller, dependency in EDGES:
        (container,) = workload(stack, caller)["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        url = env.get(url_variable(dependency))
        assert url is not None, f"{caller} has no {url_variable(dependency)}"
        # the kubelet's variables of a Service: <NAME>_SERVICE_HOST and _PORT (its first)
        found = re.fullmatch(
            r"http://\$\(([A-Z0-9_]+)_SERVICE_HOST\):\$\(([A-Z0-9_]+)_SERVICE_PORT\)", url
        )
        assert found, url
        assert found.group(1) == found.group(2), url
        named = {n.upper().replace("-", "_"): n for n in services}
        host = named.get(found.group(1))
        assert host == dependency, f"{caller} -> {dependency}: {url}"
        assert services[host][0] == SERVICES[dependency].port, f"{caller} -> {dependency}: {url}"
    pods = [workload(stack, n)["spec"]["template"]["spec"] for n in SERVICES]
    assert all(pod["enableServiceLinks"] for pod in pods)


@pytest.mark.parametrize("region", list(PROFILES_REPLICAS))
def test_each_profiles_replica_is_one_pod_on_its_regions_nodes_with_a_volume_there(
    stack: Objects, volumes: Objects, region: str
) -> None:
    name = PROFILES_REPLICAS[region]
    replica = workload(stack, name)
    assert replica["kind"] == "StatefulSet"
    assert replica["spec"]["replicas"] == 1
    pod = replica["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {REGION: region}
    (claim,) = replica["spec"]["volumeClaimTemplates"]
    (container,) = pod["containers"]
    mounted = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["CHAOSBED_PROFILES_REGION"] == region
    assert env["CHAOSBED_PROFILES_DB"].startswith(mounted[claim["metadata"]["name"]] + "/")

    # the one-machine cluster's volume: bound to this replica's claim, on its region's node
    volume = volumes[("PersistentVolume", f"chaosbed-{name}")]["spec"]
    assert volume["claimRef"] == {
        "namespace": "chaosbed",
        "name": f"{claim['metadata']['name']}-{name}-0",  # the claim a StatefulSet makes
    }
    (term,) = volume["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [{"key": REGION, "operator": "In", "values": [region]}]
    asked = claim["spec"]["resources"]["requests"]["storage"]
    assert volume["capacity"]["storage"] == asked
    assert volume["accessModes"] == claim["spec"]["accessModes"]


def test_the_stateless_services_run_several_pods_spread_over_the_nodes(stack: Objects) -> None:
    stateless = [s for s in SERVICES.values() if s.region is None]
    assert stateless
    for service in stateless:
        spec = workload(stack, service.name)["spec"]
        assert spec["replicas"] >= 2, service.name
        (spread,) = spec["template"]["spec"]["topologySpreadConstraints"]
        assert spread["topologyKey"] == "kubernetes.io/hostname"
        assert spread["labelSelector"]["matchLabels"] == {NAME: service.name}


def test_a_pod_being_deleted_serves_until_every_node_stops_sending_it_calls(
    stack: Objects,
) -> None:
    """Its preStop sleep outlasts kube-proxy's update of every node's rules (about a
    second): without it `cluster-stateless-pods-deleted`, the three pods deleted at
    once, read 95.2-99.4% of starts and 96.7-98.4% of title pages (connections refused
    by a pod still in the rules), with it 100% in three runs. Then SIGTERM, and its
    requests in flight finish within the grace period."""
    for name, container in containers(stack):
        hook = container["lifecycle"]["preStop"]["exec"]["command"]
        assert hook[0] == "sleep" and float(hook[1]) >= 2, name
        grace = workload(stack, name)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace >= float(hook[1]) + SHUTDOWN_TIMEOUT_S, name


def test_the_services_run_unprivileged_on_a_read_only_root(stack: Objects) -> None:
    for name, container in containers(stack):
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"] == {"drop": ["ALL"]}, name
        token = next(e for e in container["env"] if e["name"] == "CHAOSBED_CONTROL_TOKEN")
        assert token["valueFrom"]["secretKeyRef"]["optional"] is True  # no secret: API off


def test_prometheus_finds_the_pods_through_the_api_with_read_only_rights_in_the_namespace(
    stack: Objects,
) -> None:
    config = yaml.safe_load(stack[("ConfigMap", "prometheus-config")]["data"]["prometheus.yml"])
    (services,) = [job for job in config["scrape_configs"] if job["job_name"] == "services"]
    # Debian's Prometheus has no kubernetes_sd_configs: the sidecar in its pod lists the
    # pods through the API and serves them as HTTP service discovery
    assert services["http_sd_configs"] == [
        {"url": "http://127.0.0.1:9097/targets", "refresh_interval": "2s"}
    ]
    pod = stack[("Deployment", "prometheus")]["spec"]["template"]["spec"]
    (sidecar,) = [c for c in pod["containers"] if c["name"] == "discovery"]
    assert sidecar["command"] == ["python", "-m", "chaos.runtime.cluster.discovery"]
    assert sidecar["image"] == "chaosbed/service:latest"
    assert {"name": "CHAOSBED_DISCOVERY_PORT", "value": "9097"} in sidecar["env"]
    assert sidecar["securityContext"]["runAsNonRoot"] is True
    assert sidecar["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    (rule,) = stack[("Role", "prometheus")]["rules"]
    assert rule == {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    binding = stack[("RoleBinding", "prometheus")]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "prometheus", "namespace": "chaosbed"}
    ]
    assert pod["serviceAccountName"] == "prometheus"


def test_the_prometheus_config_is_one_the_images_prometheus_accepts(
    stack: Objects, tmp_path: Path
) -> None:
    """promtool of Debian's prometheus package, the one chaosbed/prometheus carries."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: apt-get install prometheus", pytrace=False)
    data = stack[("ConfigMap", "prometheus-config")]["data"]["prometheus.yml"]
    config = yaml.safe_load(data)
    config["rule_files"] = []  # the rules are checked with compose's
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_prometheus_records_the_rules_compose_records(stack: Objects) -> None:
    rules = stack[("ConfigMap", "prometheus-rules")]["data"]
    compose = REPO / "compose" / "prometheus" / "rules"
    assert rules == {p.name: p.read_text() for p in sorted(compose.glob("*.yml"))}


def test_the_cluster_scrape_interval_is_the_one_experiments_are_judged_by(stack: Objects) -> None:
    from chaos.experiment.limits import SCRAPE_INTERVALS

    config = yaml.safe_load(stack[("ConfigMap", "prometheus-config")]["data"]["prometheus.yml"])
    assert config["global"]["scrape_interval"] == f"{SCRAPE_INTERVALS['cluster']:g}s"


def test_the_node_agent_runs_on_every_node_seeing_its_processes_and_able_to_do_nothing() -> None:
    """node-agent.yaml: one pod per node, whatever its taints, in the node's process
    namespace (hostPID) and nothing else of the node's; no capability, no API token,
    a read-only root; running the module the runner asks through the API's proxy,
    on the port it asks."""
    from chaos.runtime.cluster.agents import AGENT
    from chaos.runtime.cluster.cluster import RUNNER_PART
    from chaos.runtime.cluster.node_agent import AGENT_PORT

    objects = load("node-agent.yaml")
    assert list(objects) == [("DaemonSet", AGENT)]
    agent = objects[("DaemonSet", AGENT)]
    assert agent["metadata"]["namespace"] == "chaosbed"
    template = agent["spec"]["template"]
    assert template["metadata"]["labels"] == {NAME: AGENT, "app.kubernetes.io/part-of": RUNNER_PART}
    pod = template["spec"]
    assert pod["hostPID"] is True
    assert not pod.get("hostNetwork") and not pod.get("hostIPC") and not pod.get("volumes")
    assert pod["automountServiceAccountToken"] is False
    assert pod["tolerations"] == [{"operator": "Exists"}]
    (container,) = pod["containers"]
    assert container["command"][:3] == ["python", "-m", "chaos.runtime.cluster.node_agent"]
    assert container["ports"] == [{"name": "agent", "containerPort": AGENT_PORT}]
    security = container["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"]} and "add" not in security["capabilities"]
    assert security["readOnlyRootFilesystem"] and not security["allowPrivilegeEscalation"]
    assert not security.get("privileged") and security["runAsNonRoot"]
    # not the services' user: a process may signal and read the environment of its own
    # user's processes, capabilities or not
    services = {
        c["securityContext"].get("runAsUser")
        for document in load("chaosbed.yaml").values()
        if document["kind"] in ("Deployment", "StatefulSet")
        for c in document["spec"]["template"]["spec"]["containers"]
    } | {
        document["spec"]["template"]["spec"].get("securityContext", {}).get("runAsUser")
        for document in load("chaosbed.yaml").values()
        if document["kind"] in ("Deployment", "StatefulSet")
    }
    assert security["runAsUser"] not in services | {0, 10001}
    assert security["runAsGroup"] not in {0, 10001}
