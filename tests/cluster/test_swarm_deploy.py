"""The Swarm stack file deployed for real: three Swarm nodes in node containers (the
cluster's node image running only its engine, cluster/swarm/node.sh), labelled us,
eu and apac; `docker stack deploy` of cluster/swarm/chaosbed-stack.yaml on the
manager; every task where the placement rules put it and answering on its
host-mode port, a member's homepage served across the nodes through Swarm's
overlay network and DNS, and the stack's Prometheus finding every task through
`tasks.<service>`. Torn down, nothing of it is left."""

from __future__ import annotations

import concurrent.futures
import functools
import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chaos.runtime.cluster.nodes import NODE_CGROUPS, NODE_CONTAINER_OPTIONS, NODE_IMAGE
from services.topology import SERVICES
from tests.compose.compose_support import IMAGES, docker_client_or_fail, ensure_images

REPO = Path(__file__).resolve().parents[2]
SWARM = REPO / "cluster" / "swarm"
REGIONS = ("us", "eu", "apac")
LABEL = "org.chaosbed.swarm-test"
SERVICE_IMAGE, PROMETHEUS_IMAGE = IMAGES
#: The swarm holds every stack slot for the module (about 90 s), its setup (images
#: loaded into three nodes) included: beside it other stacks' objectives would
#: judge the machine.
pytestmark = [pytest.mark.docker, pytest.mark.stacks(0)]


@dataclass(frozen=True)
class SwarmNode:
    region: str
    container: str
    address: str

    def docker(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            ["docker", "exec", self.container, "docker", *args],
            capture_output=True, timeout=timeout, check=False,
        )  # fmt: skip
        assert done.returncode == 0, (
            f"docker {' '.join(args[:3])} on {self.container}: {done.stderr.decode()[-800:]}"
        )
        return done.stdout.decode()


def host_docker(*args: str, stdin: Any = None, timeout: float = 120) -> str:
    done = subprocess.run(
        ["docker", *args], stdin=stdin, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"docker {' '.join(args[:3])}: {done.stderr[-800:]}"
    return done.stdout


def wait_for(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """`check()`'s first true answer, polled every second; the test fails naming
    `what` and the last answer when none comes within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = check()
        if answer:
            return answer
        assert time.monotonic() < deadline, f"not within {timeout_s:g}s: {what} ({answer!r})"
        time.sleep(1)


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, OSError):
        return 0, None


def answers(url: str) -> bool:
    return get(url)[0] == 200


def leftovers(run: str) -> list[str]:
    found = []
    for kind in ("container", "network", "volume"):
        listed = host_docker(kind, "ls", "-q", *(["-a"] if kind == "container" else []),
                             "--filter", f"label={LABEL}={run}")  # fmt: skip
        found += [f"{kind} {name}" for name in listed.split()]
    return found


@pytest.fixture(scope="module")
def swarm(module_every_slot: None) -> Iterator[dict[str, SwarmNode]]:
    """Three Swarm nodes, us the manager, each labelled with its region, with the
    images loaded (prometheus only on us, where its placement puts it)."""
    ensure_images(docker_client_or_fail(), cluster=True, images=(*IMAGES, NODE_IMAGE))
    run = uuid.uuid4().hex[:8]
    network = f"chaosbed-swarm-{run}"
    nodes: dict[str, SwarmNode] = {}
    set_up = False
    try:
        host_docker("network", "create", "--label", f"{LABEL}={run}", network)
        for region in REGIONS:
            container = f"chaosbed-swarm-{run}-{region}"
            host_docker(
                "run", "--detach", "--name", container, "--hostname", f"swarm-{region}",
                "--label", f"{LABEL}={run}", "--network", network, *NODE_CONTAINER_OPTIONS,
                # the engine's storage: a volume (not the container's overlay), removed with it
                "--mount", f"type=volume,dst=/var/lib/docker,volume-label={LABEL}={run}",
                "--volume", f"{NODE_CGROUPS}:/etc/chaosbed-swarm/{NODE_CGROUPS.name}:ro",
                "--volume", f"{SWARM / 'node.sh'}:/etc/chaosbed-swarm/node.sh:ro",
                "--entrypoint", "/etc/chaosbed-swarm/node.sh", NODE_IMAGE,
            )  # fmt: skip
            address = host_docker(
                "inspect", "--format",
                f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}', container,
            ).strip()  # fmt: skip
            nodes[region] = SwarmNode(region, container, address)
        for node in nodes.values():
            wait_for(functools.partial(_engine_up, node), 60, f"the engine of {node.container}")
        manager = nodes["us"]
        manager.docker("swarm", "init", "--advertise-addr", manager.address)
        token = manager.docker("swarm", "join-token", "-q", "worker").strip()
        for region in ("eu", "apac"):
            nodes[region].docker("swarm", "join", "--token", token, f"{manager.address}:2377")
        for region in REGIONS:
            manager.docker("node", "update", "--label-add", f"chaosbed.region={region}",
                           f"swarm-{region}")  # fmt: skip
        with concurrent.futures.ThreadPoolExecutor(len(REGIONS)) as pool:
            loads = [pool.submit(_load, nodes[r], SERVICE_IMAGE) for r in REGIONS]
            loads.append(pool.submit(_load, manager, PROMETHEUS_IMAGE))
            for load in loads:
                load.result()
        set_up = True
        yield nodes
    finally:
        containers = [f"chaosbed-swarm-{run}-{region}" for region in REGIONS]
        subprocess.run(["docker", "rm", "--force", "--volumes", *containers],
                       capture_output=True, timeout=120, check=False)  # fmt: skip
        subprocess.run(["docker", "network", "rm", network],
                       capture_output=True, timeout=60, check=False)  # fmt: skip
        left = leftovers(run)
        if set_up:  # else the setup's own error is the one to see
            assert not left, f"left behind: {left}"


def _engine_up(node: SwarmNode) -> bool:
    done = subprocess.run(
        ["docker", "exec", node.container, "docker", "version"],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    return done.returncode == 0


def _load(node: SwarmNode, image: str) -> None:
    """`docker save` here into `docker load` in the node (no registry)."""
    save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    try:
        done = subprocess.run(
            ["docker", "exec", "-i", node.container, "docker", "load", "-q"],
            stdin=save.stdout, capture_output=True, timeout=300, check=False,
        )  # fmt: skip
    finally:
        assert save.stdout is not None
        save.stdout.close()
        save.wait(timeout=60)
    assert done.returncode == 0 and save.returncode == 0, (
        f"loading {image} into {node.container}: {done.stderr.decode()[-500:]}"
    )


def tasks(manager: SwarmNode, service: str) -> list[dict[str, str]]:
    """The service's tasks meant to run, with their node and state."""
    listed = manager.docker(
        "service", "ps", f"chaosbed_{service}", "--filter", "desired-state=running",
        "--format", "{{json .}}",
    )  # fmt: skip
    return [json.loads(line) for line in listed.splitlines() if line.strip()]


def test_the_stack_file_deploys_on_a_three_node_swarm_with_regions_on_nodes(
    swarm: dict[str, SwarmNode],
) -> None:
    manager = swarm["us"]
    subprocess.run(
        ["docker", "cp", f"{SWARM}/.", f"{manager.container}:/stack"],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    manager.docker("stack", "deploy", "--compose-file", "/stack/chaosbed-stack.yaml",
                   "chaosbed", timeout=180)  # fmt: skip
    expected = {name: 1 if s.region is not None else 2 for name, s in SERVICES.items()}
    expected["prometheus"] = 1

    def converged() -> dict[str, list[dict[str, str]]] | None:
        placed = {name: tasks(manager, name) for name in expected}
        running = all(
            len(found) == expected[name] and all(t["CurrentState"].startswith("Running")
                                                 for t in found)
            for name, found in placed.items()
        )  # fmt: skip
        return placed if running else None

    placed = wait_for(converged, 180, "every task of the stack running")
    by_host = {f"swarm-{region}": node for region, node in swarm.items()}
    for name, service in SERVICES.items():
        hosts = [t["Node"] for t in placed[name]]
        if service.region is not None:  # each replica on its region's node
            assert hosts == [f"swarm-{service.region}"], (name, hosts)
        else:  # the stateless services' tasks spread: one per node
            assert len(set(hosts)) == len(hosts) == 2, (name, hosts)
    assert [t["Node"] for t in placed["prometheus"]] == ["swarm-us"]

    # every task answers on its node's address, on its host-mode port
    for name, service in SERVICES.items():
        for task in placed[name]:
            url = f"http://{by_host[task['Node']].address}:{service.port}/readyz"
            wait_for(functools.partial(answers, url), 90, f"{name} ready at {url}")

    # a homepage: recommendations calls catalog and profiles on other nodes by name
    (home,) = placed["recommendations"][:1]
    url = f"http://{by_host[home['Node']].address}:{SERVICES['recommendations'].port}"

    def served() -> Any:
        status, page = get(f"{url}/recommendations/m-1")
        return status == 200 and not page["degraded"] and page  # no fallback: both answered

    page = wait_for(served, 60, "a homepage served whole")
    assert page["rows"], page

    # Prometheus on us finds each task through Swarm's DNS (tasks.<service>) and scrapes it
    prometheus = f"http://{manager.address}:9090/api/v1/targets?state=active"

    def scraped() -> dict[str, list[str]] | None:
        status, body = get(prometheus)
        if status != 200:
            return None
        jobs: dict[str, list[str]] = {}
        for target in body["data"]["activeTargets"]:
            jobs.setdefault(target["labels"]["job"], []).append(target["health"])
        healthy = all(
            jobs.get(name, []) == ["up"] * count
            for name, count in expected.items()
            if name != "prometheus"
        )
        return jobs if healthy else None

    wait_for(scraped, 60, "every task scraped, up, through tasks.<service>")
