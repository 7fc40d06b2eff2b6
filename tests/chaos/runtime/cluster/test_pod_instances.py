"""A pod as an instance, from what the API says and what its node's agent read (the
faults on real pods: tests/cluster/test_stack_on_cluster.py)."""

from __future__ import annotations

from typing import Any

from chaos.experiment.model import ProcessFault
from chaos.faults.process import _took_effect
from chaos.runtime.cluster.agents import NodesRead
from chaos.runtime.cluster.pod_processes import ContainerProcesses
from chaos.runtime.cluster.runtime import PodInstances

CID = "c" * 64


def pod(running: bool = True) -> dict[str, Any]:
    state = {"running": {"startedAt": "2026-12-07T07:50:00Z"}} if running else {"waiting": {}}
    return {
        "metadata": {
            "name": "catalog-1",
            "uid": "u1",
            "labels": {"app.kubernetes.io/name": "catalog"},
        },
        "spec": {"nodeName": "node-us"},
        "status": {
            "containerStatuses": [
                {"name": "service", "containerID": f"containerd://{CID}", "state": state}
            ]
        },
    }


def state_of(read: NodesRead) -> Any:
    return PodInstances(None)._state(pod(), read)  # type: ignore[arg-type]


def test_the_agent_s_read_gives_the_pid_and_whether_it_is_paused() -> None:
    running = state_of(NodesRead(containers={CID: ContainerProcesses((7, 9), 7, False)}))
    assert (running.state, running.pid, running.container_id, running.unread) == (
        "running", 7, CID, None,
    )  # fmt: skip
    paused = state_of(NodesRead(containers={CID: ContainerProcesses((7,), 7, True)}))
    assert (paused.state, paused.pid) == ("paused", 7)
    ended = state_of(NodesRead())  # read, and no process of it: ended before the API said
    assert (ended.state, ended.pid, ended.unread) == ("stopped", None, None)


def test_a_pod_whose_node_was_not_read_is_running_as_the_api_says_and_no_evidence() -> None:
    why = "its node agent agent-us on node-us did not answer: timed out"
    unread = state_of(NodesRead(unread={"node-us": why}))
    assert (unread.state, unread.pid, unread.unread) == ("running", None, why)
    assert why in unread.detail
    before = {"ident": "catalog-1", "pid": 7, "container_id": CID, "uid": "u1"}
    for kind in ("kill", "pause", "delete"):  # none seen to take effect on it
        fault = ProcessFault(kind=kind, target="catalog")
        assert not _took_effect(fault, before, {"catalog-1": unread}), kind
    assert _took_effect(ProcessFault(kind="kill", target="catalog"), before, {})  # gone: is
