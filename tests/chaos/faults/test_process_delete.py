"""The delete fault's driver against a scripted orchestrator: what it takes as proof
that a pod went, that its controller replaced it, and that the service is back
(the real pods: tests/cluster/test_stack_on_cluster.py); and who refuses it."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from chaos.cli.runtime_options import capabilities_of
from chaos.experiment.loader import load_experiment_text
from chaos.experiment.model import ProcessFault, Step
from chaos.experiment.runnable import check_runnable
from chaos.faults.base import Injection
from chaos.faults.errors import NoEffect, NotVerified, RollbackFailed
from chaos.faults.process import ProcessFaultDriver
from chaos.runtime.interface import InstanceState
from tests.chaos.runtime.standin_runtime import StandinRuntime


class Orchestrator(StandinRuntime):
    """Two recommendations pods (a Deployment's) and a profiles pod (a StatefulSet's),
    as the cluster runtime lists them. A deleted pod is `going` at once, its process
    ends on the next look and the pod lingers two more (as the kubelet lets go of it);
    a Deployment's replacement appears when the delete is seen, a StatefulSet's
    (same name, new uid) only once the old pod is gone; a replacement starts (not
    running) for three looks. `replaces` off: no controller; `obeys` off: the API
    said yes and nothing happened."""

    def __init__(self, *, replaces: bool = True, obeys: bool = True) -> None:
        super().__init__()
        self.pods = [
            InstanceState(
                "recommendations", "recommendations-7d-a", "running", 11, "c-a", uid="u-a"
            ),
            InstanceState(
                "recommendations", "recommendations-7d-b", "running", 12, "c-b", uid="u-b"
            ),
            InstanceState("profiles", "profiles-us-0", "running", 21, "c-us", uid="u-us"),
        ]
        self.replaces, self.obeys = replaces, obeys
        self.looks: dict[str, int] = {}  # uid of a pod being deleted -> looks since
        self.starting: dict[str, int] = {}  # uid of a replacement -> looks left
        self.deleted: list[str] = []
        self.made = 0

    async def instances(self, service: str | None = None) -> list[InstanceState]:
        for uid in list(self.looks):
            self.looks[uid] += 1
            old = next(p for p in self.pods if p.uid == uid)
            if self.looks[uid] == 1:
                self.pods[self.pods.index(old)] = replace(old, state="stopped", pid=None)
            elif self.looks[uid] > 3:
                del self.looks[uid]
                self.pods.remove(old)
                if old.service == "profiles":
                    self._replace(old)
        for uid in list(self.starting):
            self.starting[uid] -= 1
            if self.starting[uid] <= 0:
                del self.starting[uid]
                self.pods = [
                    replace(p, state="running", pid=99, container_id=f"c-{uid}")
                    if p.uid == uid
                    else p
                    for p in self.pods
                ]
        return [p for p in self.pods if service is None or p.service == service]

    def _replace(self, old: InstanceState) -> None:
        if not self.replaces:
            return
        self.made += 1
        # a StatefulSet's pod comes back under its name; a ReplicaSet's under a new one
        name = old.instance if old.service == "profiles" else f"{old.service}-7d-new{self.made}"
        uid = f"u-new{self.made}"
        self.pods.append(InstanceState(old.service, name, "stopped", None, None, uid=uid))
        self.starting[uid] = 3

    async def delete(self, instance: str) -> InstanceState:
        self.deleted.append(instance)
        found = next(p for p in self.pods if p.instance == instance)
        if self.obeys:
            self.pods[self.pods.index(found)] = replace(found, going=True)
            self.looks[str(found.uid)] = 0
            if found.service != "profiles":
                self._replace(found)
        return found

    async def ready(self, service: str) -> bool:
        mine = [p for p in self.pods if p.service == service and not p.going]
        return all(p.state == "running" for p in mine)


def driver(runtime: Orchestrator, timeout: float = 2.0) -> ProcessFaultDriver:
    return ProcessFaultDriver(
        runtime,
        rng=random.Random(1),
        verify_timeout=timeout,
        ready_timeout=timeout,
        poll=0.001,
    )


def step(target: str = "recommendations", instances: int | None = 1) -> Step:
    return Step("1-delete", ProcessFault("delete", target, instances=instances), 0.0, 5.0)


async def run_through(runtime: Orchestrator, fault: Step, looks: int = 0) -> Injection:
    """Inject, verify, `looks` more looks while the step lasts, confirm, roll back."""
    injection = Injection(fault.name, "process", "")
    await driver(runtime).inject(fault, injection, ttl=10)
    await driver(runtime).verify(fault, injection)
    for _ in range(looks):
        await runtime.instances()
    await driver(runtime).confirm_effect(fault, injection, reader=None, since=0.0)  # type: ignore[arg-type]
    await driver(runtime).rollback(fault, injection)
    return injection


async def test_a_deleted_pod_is_verified_gone_replaced_by_its_controller_and_waited_for() -> None:
    runtime = Orchestrator()
    injection = await run_through(runtime, step())
    assert runtime.deleted == ["recommendations-7d-a"]
    assert injection.verification == "delete seen on recommendations/recommendations-7d-a (pid 11)"
    assert injection.effect == (
        "recommendations-7d-a deleted; its controller made recommendations-7d-new1 (stopped)"
    )
    assert injection.rollback == (
        "recommendations runs 2 instance(s) again, replaced by its controller, and is ready"
    )
    here = [p for p in runtime.pods if p.service == "recommendations" and not p.going]
    assert [p.state for p in here] == ["running"] * 2


async def test_a_statefulset_pod_back_under_its_own_name_counts_as_its_replacement() -> None:
    runtime = Orchestrator()
    injection = await run_through(runtime, step("profiles", None), looks=3)
    assert injection.effect == "profiles-us-0 deleted; its controller made profiles-us-0 (stopped)"
    (back,) = [p for p in runtime.pods if p.service == "profiles"]
    assert (back.uid, back.state) == ("u-new1", "running")


async def test_a_delete_the_orchestrator_did_not_carry_out_is_not_verified() -> None:
    runtime = Orchestrator(obeys=False)  # the API said yes; the pod is still there
    fault, injection = step(), Injection("1-delete", "process", "")
    await driver(runtime).inject(fault, injection, ttl=10)
    with pytest.raises(NotVerified, match="delete of recommendations did not take effect on"):
        await driver(runtime, timeout=0.05).verify(fault, injection)


async def test_a_pod_nobody_replaced_is_no_effect_and_the_rollback_fails() -> None:
    runtime = Orchestrator(replaces=False)
    fault, injection = step(), Injection("1-delete", "process", "")
    await driver(runtime).inject(fault, injection, ttl=10)
    await driver(runtime).verify(fault, injection)
    with pytest.raises(NoEffect, match="had made 0 new instance\\(s\\) for 1 deleted"):
        await driver(runtime).confirm_effect(fault, injection, reader=None, since=0.0)  # type: ignore[arg-type]
    with pytest.raises(RollbackFailed, match="runs 1 instance\\(s\\) of the 2 it ran before"):
        await driver(runtime, timeout=0.05).rollback(fault, injection)


EXPERIMENT = """
title: a pod deleted
hypothesis: its controller replaces it
runtimes: [{runtimes}]
load: {{rate: 5}}
steady_state:
  slos: [{{name: ok, availability: {{service: recommendations}}, objective: 50}}]
method:
  - {{fault: delete, target: recommendations, instances: 1, duration: 10s}}
"""


@pytest.mark.parametrize("runtime", ["process", "docker"])
def test_only_the_cluster_runtime_deletes_an_instance(runtime: str) -> None:
    experiment = load_experiment_text(EXPERIMENT.format(runtimes="process, docker, cluster"))
    (problem,) = check_runnable(experiment, runtime, capabilities_of(runtime))
    assert str(problem) == (
        "method[0] (1-delete): a delete fault needs --runtime cluster (an orchestrator to "
        f"replace what it deletes; the {runtime} runtime has none)"
    )
    assert check_runnable(experiment, "cluster", capabilities_of("cluster")) == []


async def test_a_pod_marked_deleted_whose_process_still_runs_is_not_taken_as_deleted() -> None:
    runtime = Orchestrator()
    fault, injection = step(), Injection("1-delete", "process", "")
    await driver(runtime).inject(fault, injection, ttl=10)
    runtime.looks.clear()  # marked for deletion; its process never ends (a stuck SIGTERM)
    (going,) = [p for p in runtime.pods if p.going]
    assert going.state == "running"
    with pytest.raises(NotVerified, match="delete of recommendations did not take effect on"):
        await driver(runtime, timeout=0.05).verify(fault, injection)
