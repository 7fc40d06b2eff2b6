"""The network layer on the real compose stack (marker `docker`): a one-way cut
is one-way, loss and bandwidth are measured near what was asked, and after a
runner is SIGKILLed mid-partition `chaosbed cleanup` removes every rule.

Needs a Docker engine; without one the tests fail, saying how to get one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from chaos.cli.cleanup import clean
from chaos.experiment.model import NetworkFault, Step
from chaos.faults.base import Injection
from chaos.faults.control_client import ControlClient
from chaos.faults.network import NetworkFaultDriver
from chaos.faults.network import leftovers as network_leftovers
from chaos.faults.network.probes import REACH, argv, parse_reach, reach_args
from chaos.runner.wiring import leftovers
from chaos.runtime.network import Namespace
from tests.compose.compose_support import require_docker_images

from .network_stack import KILLED_RUN_ID, SPECS, TOKEN, runtime_at

pytestmark = pytest.mark.docker

RUN_ID = "20261122T000000-abcdef"
ROOT = Path(__file__).resolve().parents[4]
SAVE = "iptables-save; echo '#--tc--'; tc qdisc show dev eth0"


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_docker_images()
    state = tmp_path_factory.mktemp("network-docker") / "state"
    runtime = runtime_at(state)
    try:
        runtime.up()
        yield state
    finally:
        runtime.down()


def namespaces(state: Path) -> dict[str, Namespace]:
    found = asyncio.run(runtime_at(state).network.all())
    return {ns.service: ns for ns in found}


def run_in(state: Path, ns: Namespace, *command: str) -> str:
    return asyncio.run(runtime_at(state).network.run(ns, command, "test"))


def reaches(state: Path, source: str, target: str) -> bool:
    found = namespaces(state)
    peer = found[target]
    out = run_in(
        state, found[source], *argv(REACH, reach_args([(peer.addresses[0], peer.port or 0)]))
    )
    return parse_reach(out, 1)[0]


def driver(state: Path) -> NetworkFaultDriver:
    return NetworkFaultDriver(
        runtime_at(state).network, run_id=RUN_ID, tag=f"chaosbed-run-{RUN_ID}"
    )


def inject_and_verify(
    net: NetworkFaultDriver, fault: NetworkFault
) -> tuple[Step, Injection, float]:
    step = Step("under-test", fault, 0.0, 30.0)
    injection = Injection(step.name, "network", "under test")

    async def go() -> None:
        await net.inject(step, injection, ttl=30)
        await net.verify(step, injection)

    started = time.monotonic()
    asyncio.run(go())
    return step, injection, time.monotonic() - started


def test_a_one_way_partition_is_one_way(state: Path) -> None:
    net = driver(state)
    fault = NetworkFault("partition", from_=("recommendations",), to=("catalog",))
    step, injection, _ = inject_and_verify(net, fault)
    try:
        assert not reaches(state, "recommendations", "catalog")
        assert reaches(state, "catalog", "recommendations")
        # a whole exchange the other way: catalog asks, recommendations answers
        found = namespaces(state)
        url = f"http://{found['recommendations'].addresses[0]}:8082/healthz"
        program = f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=3).status)"
        assert run_in(state, found["catalog"], "python3", "-c", program).strip() == "200"
    finally:
        asyncio.run(net.rollback(step, injection))
    assert reaches(state, "recommendations", "catalog")
    saved = run_in(state, namespaces(state)["recommendations"], "sh", "-c", SAVE)
    assert "cb-" not in saved and "chaosbed-run" not in saved


def test_loss_is_measured_near_the_asked_rate(state: Path) -> None:
    net = driver(state)
    step, injection, _ = inject_and_verify(net, NetworkFault("loss", target="catalog", percent=30))
    asyncio.run(net.rollback(step, injection))
    measured = injection.handle["measured_loss_percent"]
    sys.stdout.write(f"loss asked 30%, measured {measured}%: {injection.verification}\n")
    assert 18 <= measured <= 42
    assert "cb-" not in run_in(state, namespaces(state)["catalog"], "sh", "-c", SAVE)


def test_bandwidth_is_measured_near_the_asked_rate(state: Path) -> None:
    net = driver(state)
    fault = NetworkFault("bandwidth", target="recommendations", rate_kbit=256)
    step, injection, _ = inject_and_verify(net, fault)
    asyncio.run(net.rollback(step, injection))
    measured = injection.handle["measured_kbit"]
    sys.stdout.write(f"bandwidth asked 256 kbit/s, measured {measured}: {injection.verification}\n")
    assert 0.7 * 256 <= measured <= 1.3 * 256
    shown = run_in(
        state, namespaces(state)["recommendations"], "tc", "qdisc", "show", "dev", "eth0"
    )
    assert "tbf" not in shown


LONG_PARTITION = """
title: A long partition, for a runner to be killed in the middle of
hypothesis: never finishes; the test SIGKILLs the runner while the cut is in
predicts: held
runtimes: [docker]
load: {rate: 5, mix: {play: 100}, members: 5}
steady_state:
  warmup: 10s
  hold: 2s
  slos:
    - {name: play-ok, availability: {service: playback, source: server}, objective: 10, window: 10s}
method:
  - {fault: partition, between: [[playback], [profiles]], duration: 120s}
"""


async def left_over(state: Path) -> list[str]:
    runtime = runtime_at(state)
    async with aiohttp.ClientSession() as session:
        control = ControlClient({s.name: s.base_url for s in SPECS}, TOKEN, session)
        return await leftovers(runtime, control)


def test_cleanup_removes_every_rule_a_sigkilled_runner_left(state: Path, tmp_path: Path) -> None:
    experiment = tmp_path / "long-partition.yaml"
    experiment.write_text(LONG_PARTITION)
    log = tmp_path / "runner.log"
    with log.open("w") as out:  # the child keeps its own descriptor
        runner = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.faults.network.network_stack"]
            + [str(experiment), str(state), str(tmp_path / "journal.json")],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    runtime = runtime_at(state)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            held, _ = asyncio.run(network_leftovers.find(runtime.network))
            if any(left.chains for left in held):
                break
            time.sleep(0.5)
        else:
            journal = tmp_path / "journal.json"
            said = journal.read_text()[-3000:] if journal.exists() else log.read_text()
            pytest.fail(f"the partition never showed up in playback's namespace: {said}")
        time.sleep(1.0)  # past the inject: the jumps are in too
    finally:
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
    assert not reaches(state, "playback", "profiles")

    found = asyncio.run(left_over(state))  # what preflight refuses to start with
    assert any("iptables chain cb-" in line for line in found), found

    removed, failed = asyncio.run(clean(runtime))  # what `chaosbed cleanup` does
    assert failed == []
    chain = f"iptables chain cb-{KILLED_RUN_ID.replace('-', '')}-1"
    assert any(chain in line for line in removed), removed
    for ns in namespaces(state).values():
        saved = run_in(state, ns, "sh", "-c", SAVE)
        assert "cb-" not in saved and "chaosbed-run" not in saved, (ns.service, saved)
    assert reaches(state, "playback", "profiles")
    assert reaches(state, "profiles", "playback")
    assert asyncio.run(runtime.network.helpers()) == []
    assert asyncio.run(left_over(state)) == []
    assert asyncio.run(clean(runtime)) == ([], [])


def chains_in(state: Path) -> list[str]:
    held, _ = asyncio.run(network_leftovers.find(runtime_at(state).network))
    return [chain for left in held for chain in left.chains]


TTL_S = 12.0  # past the inject, the verification and the checks that the cut is in


def test_rules_whose_runner_died_end_by_their_ttl(state: Path) -> None:
    """Nothing rolls back for a runner (or monkey) killed outright: the TTL helper
    the inject started removes the rules when the TTL is over, and goes itself."""
    net = NetworkFaultDriver(runtime_at(state).network, run_id=RUN_ID,
                             tag=f"chaosbed-run-{RUN_ID}", ttl_slack=0.0)  # fmt: skip
    fault = NetworkFault("partition", between=(("playback",), ("profiles",)))
    step = Step("orphaned", fault, 0.0, 1.0)
    injection = Injection(step.name, "network", "under test")
    armed = time.monotonic()
    asyncio.run(net.inject(step, injection, ttl=TTL_S))
    asyncio.run(net.verify(step, injection))  # then the runner is gone: no rollback
    assert not reaches(state, "playback", "profiles")
    assert chains_in(state) == [injection.handle["chain"]]
    deadline = armed + TTL_S + 30
    while chains_in(state) or asyncio.run(runtime_at(state).network.helpers()):
        assert time.monotonic() < deadline, (chains_in(state), injection.handle)
        time.sleep(0.5)
    ended = time.monotonic() - armed
    sys.stdout.write(f"rules with a {TTL_S:g}s TTL gone {ended:.1f}s after the inject began\n")
    assert ended >= TTL_S
    assert reaches(state, "playback", "profiles") and reaches(state, "profiles", "playback")
    assert asyncio.run(left_over(state)) == []


def test_a_pause_whose_monkey_died_ends_by_the_engines_helper(state: Path) -> None:
    """The docker runtime's pause expiry is a container the engine runs, so it ends the
    pause even when the monkey's own container is gone; disarmed, it does nothing."""
    runtime = runtime_at(state)
    (instance,) = asyncio.run(runtime.instances("catalog"))
    asyncio.run(runtime.pause(instance.instance))
    disarm = asyncio.run(runtime.expire_pause([instance.instance], 3.0, "test-expiry"))
    assert disarm is not None

    async def disarmed() -> None:
        await disarm()

    asyncio.run(disarmed())  # rolled back by its monkey: the helper goes, the pause stays
    assert asyncio.run(runtime.network.helpers()) == []
    (now,) = asyncio.run(runtime.instances("catalog"))
    assert now.state == "paused"

    armed = time.monotonic()
    assert asyncio.run(runtime.expire_pause([instance.instance], 3.0, "test-expiry"))
    while (now := asyncio.run(runtime.instances("catalog"))[0]).state == "paused":
        assert time.monotonic() < armed + 30, now
        time.sleep(0.5)
    assert now.state == "running" and time.monotonic() - armed >= 3.0
    deadline = time.monotonic() + 15
    while asyncio.run(runtime.network.helpers()):  # it removes itself once done
        assert time.monotonic() < deadline
        time.sleep(0.5)
