"""A cluster attached to with a kubeconfig, without a cluster: its nodes as a
stand-in API lists them, what `up` refuses before applying anything, the record
the commands after `up` read, and node_stop refused before a run. Against the real
API server: tests/cluster/test_stack_on_cluster.py."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from chaos.cli.runtime_options import capabilities_of
from chaos.experiment import load_experiment
from chaos.experiment.runnable import check_runnable
from chaos.runtime.cluster.attached import AttachedCluster, Attachment, nodes_of
from chaos.runtime.cluster.control_plane import ControlPlaneFailed
from chaos.runtime.cluster.nodes import Node
from chaos.runtime.cluster.runtime import PROMETHEUS, ClusterRuntime, _reached_on
from chaos.runtime.errors import InvalidStack, NotRunning
from chaos.runtime.stack import STACK

REPO = Path(__file__).resolve().parents[4]
#: What the stand-in API answers for the control API's Secret (None: 404).
SECRET: dict[str, Any] = {}
#: How many more times the stand-in's Service proxy answers a Service with the API
#: server's "no endpoints" Status before the Service itself answers (-1: never), and
#: what reached each Service's readiness path.
UNANSWERED: dict[str, int] = {}
ASKED: list[str] = []
#: Nodes the stand-in API lists besides n1 (us), n2 (eu) and n3 (no region).
MORE_NODES: list[dict[str, Any]] = []


def node(name: str, region: str | None, address: str = "10.0.0.1") -> dict[str, Any]:
    labels = {"chaosbed.io/region": region} if region else {}
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"podCIDR": "10.244.1.0/24"},
        "status": {
            "addresses": [
                {"type": "Hostname", "address": name},
                {"type": "InternalIP", "address": address},
            ],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def test_the_nodes_are_the_labelled_ones_in_the_regions_order() -> None:
    found = nodes_of(
        [
            node("c", "apac", "10.0.0.3"),
            node("x", None),
            node("a", "us", "10.0.0.1"),
            node("b", "eu"),
        ]
    )

    assert [(n.name, n.region) for n in found] == [("a", "us"), ("b", "eu"), ("c", "apac")]
    assert found[0].address == "10.0.0.1"
    assert found[0].pod_cidr == "10.244.1.0/24"


def test_a_region_on_two_nodes_is_refused_naming_them() -> None:
    with pytest.raises(InvalidStack, match=r"region eu is on 2 nodes \(b, d\)"):
        nodes_of([node("a", "us"), node("b", "eu"), node("d", "eu")])


@pytest.fixture
async def api(aiohttp_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in API listing two labelled nodes, and a kubectl on PATH that records what
    it is asked; the kubeconfig reaching them."""
    app = web.Application()

    async def nodes(request: web.Request) -> web.Response:
        listed = [node("n1", "us"), node("n2", "eu"), node("n3", None), *MORE_NODES]
        return web.json_response({"items": listed})

    async def one(request: web.Request) -> web.Response:
        return web.json_response(node(request.match_info["name"], "us"))

    async def secret(request: web.Request) -> web.Response:
        found = SECRET.get("answer")
        if found is None:
            return web.json_response({"kind": "Status", "code": 404}, status=404)
        return web.json_response(found)

    app.router.add_get("/api/v1/namespaces/chaosbed/secrets/chaosbed-control", secret)

    async def service(request: web.Request) -> web.Response:
        name, path = request.match_info["name"], request.match_info["path"]
        left = UNANSWERED.get(name, 0)
        if left:
            UNANSWERED[name] = left - 1 if left > 0 else left
            status = {"kind": "Status", "code": 503, "message": f'no endpoints for "{name}"'}
            return web.json_response(status, status=503)
        ASKED.append(f"{name} /{path} {request.headers.get('Authorization')}")
        return web.Response(text="ready")

    async def pods(request: web.Request) -> web.Response:
        ready = {"conditions": [{"type": "Ready", "status": "True"}], "phase": "Running"}
        return web.json_response(
            {
                "items": [
                    {
                        "metadata": {
                            "name": f"{spec.name}-0",
                            "labels": {
                                "app.kubernetes.io/name": spec.name,
                                "app.kubernetes.io/part-of": "chaosbed",
                            },
                        },
                        "spec": {"nodeName": "n1"},
                        "status": ready,
                    }
                    for spec in (*STACK, PROMETHEUS)
                ]
            }
        )

    async def agents(request: web.Request) -> web.Response:
        return web.json_response({"status": {"desiredNumberScheduled": 2, "numberReady": 2}})

    async def version(request: web.Request) -> web.Response:
        return web.json_response({"gitVersion": "v1.20.2"})

    async def token(request: web.Request) -> web.Response:
        return web.json_response({"status": {"token": "the runner's"}})

    app.router.add_get(
        "/api/v1/namespaces/chaosbed/services/{name}:{port}/proxy/{path:.*}", service
    )
    app.router.add_get("/api/v1/namespaces/chaosbed/pods", pods)
    app.router.add_get("/version", version)
    app.router.add_get("/apis/apps/v1/namespaces/chaosbed/daemonsets/{name}", agents)
    app.router.add_post("/api/v1/namespaces/chaosbed/serviceaccounts/{name}/token", token)
    app.router.add_get("/api/v1/nodes", nodes)
    app.router.add_get("/api/v1/nodes/{name}", one)
    server = await aiohttp_server(app)
    kubectl = tmp_path / "bin" / "kubectl"
    kubectl.parent.mkdir()
    kubectl.write_text(
        f'#!/bin/sh\necho "$@" >> {tmp_path / "kubectl.log"}\ncat >> {tmp_path / "stdin.log"}\n'
    )
    kubectl.chmod(0o755)
    monkeypatch.setenv("PATH", f"{kubectl.parent}{os.pathsep}{os.environ['PATH']}")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "clusters": [
                    {"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.port}"}}
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return kubeconfig


async def test_up_on_a_cluster_with_a_region_without_a_node_applies_nothing(
    api: Path, tmp_path: Path
) -> None:
    cluster = AttachedCluster(Attachment(api))
    prepared: list[bool] = []

    with pytest.raises(InvalidStack, match="no node labelled chaosbed.io/region=apac"):
        await asyncio.to_thread(cluster.up, prepare=lambda: prepared.append(True))

    assert prepared == []
    assert not (tmp_path / "kubectl.log").exists()


async def test_the_attachment_is_what_the_commands_after_up_read(api: Path, tmp_path: Path) -> None:
    state = tmp_path / ".chaosbed"
    Attachment(api, "x").write(state / "cluster")
    (state / "cluster" / "runner.token").write_text("the runner's")

    runtime = ClusterRuntime(state)

    assert runtime.attachment == Attachment(api, "x")
    assert isinstance(runtime.cluster, AttachedCluster)
    nodes = await asyncio.to_thread(lambda: runtime.layout.nodes)
    assert [n.name for n in nodes] == ["n1", "n2"]
    assert await asyncio.to_thread(runtime.machine_state, "n1") == "running"
    push = await asyncio.to_thread(runtime.load_metrics_push_url)
    assert push is not None
    assert push.startswith("http://127.0.0.1:") and push.endswith("/api/v1/write")
    runtime._close_proxy()
    assert ClusterRuntime(tmp_path / "other").attachment is None


def test_a_record_that_is_not_one_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "cluster").mkdir()
    (tmp_path / "cluster" / Attachment.FILE).write_text("[]")

    with pytest.raises(InvalidStack, match="attached.json: not a record of an attached cluster"):
        ClusterRuntime(tmp_path)


def test_node_stop_is_refused_before_a_run_on_a_cluster_attached_to(
    api: Path, tmp_path: Path
) -> None:
    experiment = load_experiment(
        REPO / "chaos" / "experiments" / "cluster-node-lost-during-writes.yaml"
    )
    state = tmp_path / ".chaosbed"

    owned = check_runnable(experiment, "cluster", capabilities_of("cluster", state))
    Attachment(api).write(state / "cluster")
    attached = check_runnable(experiment, "cluster", capabilities_of("cluster", state))

    assert owned == []
    assert [str(problem) for problem in attached] == [
        "method[0] (1-node_stop): a node_stop fault is not possible here: a node's machine"
        " is stopped and started by its provider (a cloud's API), which a cluster attached"
        " to with a kubeconfig does not give the runner"
    ]


def test_a_cut_drops_a_node_s_pod_range_or_else_its_pods_addresses() -> None:
    ranged = Node("n2", "eu", "10.0.0.2", "10.244.2.0/24")
    unranged = Node("n2", "eu", "10.0.0.2", "")
    pods = [
        {"spec": {"nodeName": "n2"}, "status": {"podIP": "10.9.0.7"}},
        {"spec": {"nodeName": "n2"}, "status": {"podIP": "10.0.0.2"}},  # the node's network
        {"spec": {"nodeName": "n2"}, "status": {}},  # no address yet
        {"spec": {"nodeName": "n1"}, "status": {"podIP": "10.9.0.3"}},
    ]

    assert _reached_on(ranged, pods) == ["10.0.0.2", "10.244.2.0/24"]
    assert _reached_on(unranged, pods) == ["10.0.0.2", "10.9.0.7"]
    assert _reached_on(Node("n2", "eu", "", ""), pods) == ["10.0.0.2", "10.9.0.7"]


@pytest.fixture(autouse=True)
def no_secret() -> None:
    SECRET.clear()
    UNANSWERED.clear()
    ASKED.clear()
    MORE_NODES.clear()


async def test_a_second_attachment_in_one_state_directory_is_refused_before_any_call(
    api: Path, tmp_path: Path
) -> None:
    state = tmp_path / ".chaosbed"
    Attachment(tmp_path / "another-kubeconfig").write(state / "cluster")

    with pytest.raises(InvalidStack, match="holds a stack attached with .*another-kubeconfig"):
        await asyncio.to_thread(ClusterRuntime(state, kubeconfig=api).up)

    assert not (tmp_path / "kubectl.log").exists()


async def test_the_control_token_goes_to_kubectl_on_stdin_never_in_its_arguments(
    api: Path, tmp_path: Path
) -> None:
    (tmp_path / ".chaosbed").mkdir()
    runtime = ClusterRuntime(tmp_path / ".chaosbed", kubeconfig=api, environ={})
    await asyncio.to_thread(runtime._prepare_attached)

    token = (tmp_path / ".chaosbed" / "token").read_text().strip()
    assert token not in (tmp_path / "kubectl.log").read_text()
    assert json.dumps(token) in (tmp_path / "stdin.log").read_text()


@pytest.mark.parametrize(
    ("secret", "environ", "why"),
    [
        ({"data": {}}, {}, "has no key `token`"),
        ({"data": {"token": "c2VjcmV0"}}, {"CHAOSBED_CONTROL_TOKEN": "other"}, "is not the token"),
    ],
)
async def test_a_secret_the_runner_cannot_use_is_refused(
    api: Path, tmp_path: Path, secret: dict[str, Any], environ: dict[str, str], why: str
) -> None:
    SECRET["answer"] = secret
    (tmp_path / ".chaosbed").mkdir()
    runtime = ClusterRuntime(tmp_path / ".chaosbed", kubeconfig=api, environ=environ)

    with pytest.raises(InvalidStack, match=why):
        await asyncio.to_thread(runtime._prepare_attached)


async def test_the_secret_s_token_is_adopted(api: Path, tmp_path: Path) -> None:
    SECRET["answer"] = {"data": {"token": "c2VjcmV0"}}  # "secret"
    (tmp_path / ".chaosbed").mkdir()
    runtime = ClusterRuntime(tmp_path / ".chaosbed", kubeconfig=api, environ={})
    await asyncio.to_thread(runtime._prepare_attached)

    assert runtime.control_token() == "secret"


def test_with_no_runner_token_no_service_is_reached_as_the_kubeconfig_s_identity(
    api: Path, tmp_path: Path
) -> None:
    state = tmp_path / ".chaosbed"
    Attachment(api).write(state / "cluster")

    with pytest.raises(NotRunning, match="no runner token"):
        ClusterRuntime(state).base_url("catalog")


async def test_up_waits_until_every_service_answers_through_the_api_server(
    api: Path, tmp_path: Path
) -> None:
    """Every pod Ready is not every Service answering (a kube-proxy or an API server
    not yet told of the endpoints): `up` returns once each has answered, as the
    commands after it reach them, and names the ones that never did."""
    state = tmp_path / ".chaosbed"
    Attachment(api).write(state / "cluster")
    (state / "cluster" / "runner.token").write_text("the runner's")
    runtime = ClusterRuntime(state)
    runtime._act_as_runner()
    UNANSWERED.update({"prometheus": 3, "catalog": 2})
    try:
        await asyncio.to_thread(runtime._wait_answering, 30.0)

        names = [spec.name for spec in (*runtime.services, PROMETHEUS)]
        assert sorted(asked.split()[0] for asked in ASKED) == sorted(names)
        assert "prometheus /-/ready Bearer the runner's" in ASKED
        assert "catalog /readyz Bearer the runner's" in ASKED
        assert UNANSWERED == {"prometheus": 0, "catalog": 0}

        ASKED.clear()
        UNANSWERED["profiles-eu"] = -1
        with pytest.raises(ControlPlaneFailed) as failed:
            await asyncio.to_thread(runtime._wait_answering, 1.0)
        said = str(failed.value)
        assert "in 1 s these did not answer: profiles-eu (127.0.0.1:" in said
        assert said.endswith(
            '(X-Chaosbed-Proxy: 503): the API server\'s proxy: no endpoints for "profiles-eu"'
        ), said
        assert "profiles-eu" not in {asked.split()[0] for asked in ASKED}
    finally:
        runtime._close_proxy()


async def test_up_returns_once_every_service_answers_and_keeps_no_token_when_one_never_does(
    api: Path, tmp_path: Path
) -> None:
    """The whole `up --kubeconfig` against the stand-in: every pod is Ready at once,
    but catalog's Service answers for the API server twice first; `up` returns after
    it answered. When profiles-apac never answers, `up` fails naming it and writes no
    runner token: the commands after it refuse to act as if it had ended."""
    MORE_NODES.append(node("n4", "apac"))
    UNANSWERED["catalog"] = 2
    runtime = ClusterRuntime(tmp_path / "a" / ".chaosbed", kubeconfig=api, ready_timeout_s=5)
    try:
        statuses = await asyncio.to_thread(runtime.up)
    finally:
        runtime._close_proxy()
    assert UNANSWERED["catalog"] == 0
    assert "catalog /readyz Bearer the runner's" in ASKED
    assert all(status.ready for status in statuses)
    assert (tmp_path / "a" / ".chaosbed" / "cluster" / "runner.token").read_text() == (
        "the runner's"
    )

    UNANSWERED["profiles-apac"] = -1
    state = tmp_path / "b" / ".chaosbed"
    failing = ClusterRuntime(state, kubeconfig=api, ready_timeout_s=1)
    try:
        with pytest.raises(ControlPlaneFailed, match=r"did not answer: profiles-apac \("):
            await asyncio.to_thread(failing.up)
    finally:
        failing._close_proxy()
    assert not (state / "cluster" / "runner.token").exists()
    with pytest.raises(NotRunning, match="no runner token"):
        ClusterRuntime(state).base_url("catalog")
