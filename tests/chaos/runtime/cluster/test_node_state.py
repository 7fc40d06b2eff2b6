"""When a drained pod counts as stopped on the cluster runtime: being deleted, every
container of its spec terminated or waiting, and no process on the machine left in its cgroup
(the real drain: tests/cluster/test_stack_on_cluster.py)."""

from __future__ import annotations

from typing import Any

from chaos.runtime.cluster.pod_processes import pod_uids
from chaos.runtime.cluster.runtime import pod_stopped

UID = "3f9886cc-043d-46fd-9d0d-526792e9f767"
OTHER = "d4178dca-83df-435c-a097-68af0c5f3320"
CONTAINER = "38b8e6e21cacff51b701321682f905c52d025bb687781a5081a7c0218ca8a6f8"


def pod(*states: dict[str, Any], deleted: bool = True, containers: int = 1) -> dict[str, Any]:
    names = [f"c{i}" for i in range(containers)]
    metadata: dict[str, Any] = {"name": "catalog-1", "uid": UID}
    if deleted:
        metadata["deletionTimestamp"] = "2026-12-07T07:58:10Z"
    return {
        "metadata": metadata,
        "spec": {"containers": [{"name": name} for name in names]},
        "status": {
            "containerStatuses": [
                {"name": name, "state": state} for name, state in zip(names, states, strict=False)
            ]
        },
    }


TERMINATED = {"terminated": {"exitCode": 137}}
RUNNING = {"running": {"startedAt": "2026-12-07T07:50:00Z"}}
WAITING = {"waiting": {"reason": "CrashLoopBackOff"}}


def test_a_deleted_pod_whose_containers_terminated_and_left_no_process_is_stopped() -> None:
    assert pod_stopped(pod(TERMINATED), with_processes={OTHER})
    assert pod_stopped(pod(TERMINATED, TERMINATED, containers=2), with_processes=set())


def test_one_whose_containers_wait_and_whose_sandbox_is_gone_is_stopped_too() -> None:
    """The kubelet (1.20) reports a container it has removed as waiting, until it lets
    go of the pod up to a minute later (a drain's verification once waited that long
    for an evicted catalog pod): being deleted with nothing of it running, it is over."""
    removed = pod({"waiting": {"reason": "ContainerCreating"}}, TERMINATED, containers=2)
    assert pod_stopped(removed, with_processes=set())
    assert not pod_stopped(removed, with_processes={UID})  # its sandbox runs: not stopped
    assert not pod_stopped(pod(WAITING, deleted=False), set())  # not being deleted


def test_anything_short_of_that_is_not() -> None:
    assert not pod_stopped(pod(TERMINATED, deleted=False), set())  # not being deleted
    assert not pod_stopped(pod(TERMINATED), with_processes={UID})  # status ahead of the host
    assert not pod_stopped(pod(RUNNING), set())
    assert not pod_stopped(pod(WAITING), {UID})  # about to start again in its sandbox
    assert not pod_stopped(pod(), set())  # no status yet: its containers may be starting
    assert not pod_stopped(pod(TERMINATED, RUNNING, containers=2), set())
    assert not pod_stopped(pod(TERMINATED, containers=2), set())  # one without a status
    assert not pod_stopped(pod(TERMINATED, containers=0), set())


def test_a_process_is_placed_in_its_pod_by_the_cgroup_path() -> None:
    v1 = (
        f"12:pids:/docker/abc/kubepods/besteffort/pod{UID}/{CONTAINER}\n"
        f"11:freezer:/docker/abc/kubepods/besteffort/pod{UID}/{CONTAINER}\n"
        f"3:cpu,cpuacct:/docker/abc/kubepods/pod{OTHER}\n"  # the pod's own level, guaranteed
    )
    assert pod_uids(v1) == {UID, OTHER}
    assert pod_uids(f"0::/kubepods/burstable/pod{UID}/{CONTAINER}\n") == {UID}
    assert pod_uids("0::/docker/abc\n12:pids:/docker/podman-like/x\n") == set()
    systemd = f"kubepods-burstable-pod{UID.replace('-', '_')}.slice"
    assert pod_uids(f"0::/kubepods.slice/kubepods-burstable.slice/{systemd}/x.scope\n") == {UID}
