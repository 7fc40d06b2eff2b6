"""The runner's side of the node agents: real agent apps on loopback ports, each
over a made-up /proc of its node, asked through a stand-in for the API server
(its pod list, and its proxy forwarding to the agent's port). What counts as
read, and what does not. The real agents behind a real API server's proxy:
tests/cluster/test_stack_on_cluster.py."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from chaos.runtime.cluster.agents import AGENT, NodeAgents
from chaos.runtime.cluster.control_plane import ControlPlaneFailed
from chaos.runtime.cluster.node_agent import MAX_CONTAINERS, MAX_PIDS, make_app
from tests.chaos.runtime.cluster.test_pod_processes import fake_process

UID = {"us": "0c2f3e1a-5b6d-4e7f-8a9b-0c1d2e3f4a51", "eu": "0c2f3e1a-5b6d-4e7f-8a9b-0c1d2e3f4a52"}
CONTAINER = {"us": "a" * 64, "eu": "b" * 64}
PROXY = re.compile(r"/api/v1/namespaces/chaosbed/pods/([^/:]+):9098/proxy(/processes.*)")


class Api:
    """The API server as NodeAgents uses it: the agents' pod list, and the proxy."""

    def __init__(self) -> None:
        self.pods: list[dict[str, Any]] = []
        self.ports: dict[str, int] = {}
        self.asked: list[str] = []

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        assert method == "GET"
        if path.startswith("/api/v1/namespaces/chaosbed/pods?"):
            return {"items": self.pods}
        found = PROXY.fullmatch(path)
        assert found, path
        self.asked.append(found[2])
        url = f"http://127.0.0.1:{self.ports[found[1]]}{found[2]}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as error:
            raise ControlPlaneFailed(f"GET {path}: HTTP {error.code}") from None


def agent_pod(name: str, node: str, *, ready: bool = True, owner: str = AGENT) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/name": AGENT},
            "ownerReferences": [{"kind": "DaemonSet", "name": owner}],
        },
        "spec": {"nodeName": node},
        "status": {"conditions": [{"type": "Ready", "status": str(ready)}]},
    }


@pytest.fixture
async def api(aiohttp_server: Any, tmp_path: Path) -> Api:
    """An agent on node-us and one on node-eu, each seeing a container of a pod."""
    api = Api()
    for region in ("us", "eu"):
        proc = tmp_path / region
        path = f"1:pids:/kubepods/besteffort/pod{UID[region]}/{CONTAINER[region]}\n"
        fake_process(proc, 40, path, "40 1")
        (proc / "40" / "stat").write_text("40 (python) S 1 40 40 0 -1")
        server = await aiohttp_server(make_app(proc, f"node-{region}"))
        api.pods.append(agent_pod(f"agent-{region}", f"node-{region}"))
        api.ports[f"agent-{region}"] = server.port
    return api


async def test_each_node_is_asked_through_the_proxy_and_their_answers_merged(api: Api) -> None:
    read = await asyncio.to_thread(
        NodeAgents(api).read,  # type: ignore[arg-type]
        {"node-us": {CONTAINER["us"]}, "node-eu": {CONTAINER["eu"], "c" * 64}},
        {"node-eu": {40, 99}},
        {"node-us": {UID["us"]}, "node-eu": {UID["eu"]}},
    )
    assert read.unread == {}
    assert {cid: p.main for cid, p in read.containers.items()} == {
        CONTAINER["us"]: 40, CONTAINER["eu"]: 40,
    }  # fmt: skip
    assert read.pods == set(UID.values())
    assert list(read.running["node-eu"]) == [40]  # 99 does not run there
    assert read.running["node-us"] == {}


async def test_a_node_not_read_says_why_and_the_others_are_still_read(
    api: Api, unused_tcp_port: int
) -> None:
    agents = NodeAgents(api)  # type: ignore[arg-type]
    wanted = {"node-us": {CONTAINER["us"]}, "node-eu": {CONTAINER["eu"]}, "node-apac": set()}

    async def unread() -> dict[str, str]:
        read = await asyncio.to_thread(agents.read, wanted)
        assert CONTAINER["us"] in read.containers  # node-us answers every time
        return read.unread

    assert (await unread())["node-apac"] == f"no node agent ({AGENT}) runs on node-apac"
    api.pods[1]["status"]["conditions"][0]["status"] = "False"
    assert "agent-eu on node-eu is not Ready" in (await unread())["node-eu"]
    api.pods[1] = agent_pod("agent-eu", "node-eu")
    api.ports["agent-eu"] = unused_tcp_port  # nothing listens: no answer
    assert "agent-eu on node-eu did not answer" in (await unread())["node-eu"]
    api.ports["agent-eu"] = api.ports["agent-us"]  # answers, for the wrong node
    assert "answered for node 'node-us', not node-eu" in (await unread())["node-eu"]
    assert CONTAINER["eu"] not in (await asyncio.to_thread(agents.read, wanted)).containers


async def test_an_agent_that_sees_no_process_of_a_pod_the_api_says_runs_is_not_believed(
    api: Api,
) -> None:
    """Made blind (another /proc, hostPID refused), it would say every container had
    ended: a pod the API says runs there must have a process it sees."""
    elsewhere = "0c2f3e1a-5b6d-4e7f-8a9b-0c1d2e3f4a59"
    read = await asyncio.to_thread(
        NodeAgents(api).read,  # type: ignore[arg-type]
        {"node-us": {CONTAINER["us"]}, "node-eu": {CONTAINER["eu"]}},
        None,
        {"node-us": {UID["us"]}, "node-eu": {UID["eu"], elsewhere}},
    )
    assert list(read.unread) == ["node-eu"]
    assert f"sees no process of pod {elsewhere}" in read.unread["node-eu"]
    assert CONTAINER["eu"] not in read.containers and "node-eu" not in read.running


async def test_only_the_daemonset_s_pods_are_agents_ready_ones_first(api: Api) -> None:
    agents = NodeAgents(api)  # type: ignore[arg-type]
    impostor = agent_pod("impostor", "node-us", owner="someone-else")
    api.pods.insert(0, impostor)
    api.pods.insert(0, agent_pod("agent-us-old", "node-us", ready=False))
    assert {node: pod["metadata"]["name"] for node, pod in agents.agents().items()} == {
        "node-us": "agent-us", "node-eu": "agent-eu",
    }  # fmt: skip


async def test_many_containers_and_pids_are_asked_in_batches_and_merged(api: Api) -> None:
    containers = {CONTAINER["us"]} | {f"{n:064x}" for n in range(2 * MAX_CONTAINERS + 5)}
    pids = {40} | set(range(1000, 1000 + 2 * MAX_PIDS + 5))
    read = await asyncio.to_thread(
        NodeAgents(api).read,  # type: ignore[arg-type]
        {"node-us": containers},
        {"node-us": pids},
    )
    assert read.unread == {}
    assert len(api.asked) == 3  # ceil(106 / 50) = ceil(405 / 200) = 3 requests
    assert set(read.containers) == {CONTAINER["us"]} and list(read.running["node-us"]) == [40]
