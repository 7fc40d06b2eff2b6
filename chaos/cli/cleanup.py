"""`chaosbed cleanup`: remove whatever runs left behind, and say what.

Fault rules tagged by a run (`chaosbed-run-*`) on every service, instances
left paused or stopped, instances left on a release a `deploy` set (restarted
with their own environment), and in a runtime with network namespaces (docker) the network layer's
iptables chains (`cb-*`) and their jumps, tbf qdiscs (`cbNN:`) and helper
containers, in every container's network namespace. Then, when nothing failed, the Chaos
Toolkit activities' record of what they injected (chaos.ctk.ledger) is emptied: what it
names is gone. With nothing left over it says so and exits 0; a service it cannot reach
is reported and the exit status is 5.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp

from chaos.ctk.ledger import Ledger
from chaos.exitcodes import ExitCode
from chaos.faults.control_client import ControlApiError, ControlClient
from chaos.faults.network import leftovers as network_leftovers
from chaos.runner.wiring import RUN_TAG_PREFIX
from chaos.runtime.interface import Runtime

from .command import Command, Context
from .runtime_options import add_runtime_options, choice_of

__all__ = ["COMMAND", "clean"]

# how long a resumed or started service has to answer again
READY_TIMEOUT_S = 30.0
# how long a started node has for itself and its pods to be Ready again
NODES_SETTLE_S = 180.0


async def clean(runtime: Runtime) -> tuple[list[str], list[str]]:
    """(what was removed, what could not be)."""
    removed: list[str] = []
    failed: list[str] = []
    nodes = runtime.nodes
    if nodes is not None:  # a node a killed run left stopped: first, its pods are on it
        for region in nodes.regions:
            try:
                node = await nodes.node(region)
                if not node.running:
                    await nodes.start(region)
                    removed.append(f"node {node.name} ({region}): started it again")
            except Exception as exc:  # noqa: BLE001 - reported, the others still cleaned
                failed.append(f"node of {region}: {exc}")
        try:  # cuts between nodes, helper pods
            removed += await nodes.remove_leftovers()
        except Exception as exc:  # noqa: BLE001 - reported, the rest still cleaned
            failed.append(f"cuts between nodes: {exc}")
        deadline = time.monotonic() + NODES_SETTLE_S
        while removed and not await nodes.settled():
            if time.monotonic() > deadline:
                failed.append(
                    f"the cluster: not every node and pod Ready {NODES_SETTLE_S:g}s after cleaning"
                )
                break
            await asyncio.sleep(0.5)
    # processes first: a paused service cannot answer its control API
    for instance in await runtime.instances():
        try:
            if instance.unread:  # whether it is paused is not known: said, not assumed
                failed.append(
                    f"{instance.service}/{instance.instance}: its process not read "
                    f"({instance.unread})"
                )
            elif instance.state == "paused":
                await runtime.unpause(instance.instance)
                removed.append(f"{instance.service}: resumed paused instance {instance.instance}")
            elif instance.state == "stopped" and not instance.going:  # going: by itself
                await runtime.start(instance.instance)
                removed.append(f"{instance.service}: started stopped instance {instance.instance}")
        except Exception as exc:  # noqa: BLE001 - reported, the others still cleaned
            failed.append(f"{instance.service}/{instance.instance}: {exc}")
    # then releases: a started instance may have come back on one
    for instance in await runtime.instances():
        if not instance.release:
            continue
        release = " ".join(f"{k}={v}" for k, v in instance.release)
        try:
            await runtime.deploy(instance.instance, {})
            removed.append(
                f"{instance.service}: restarted instance {instance.instance} without the "
                f"release a run deployed ({release})"
            )
        except Exception as exc:  # noqa: BLE001 - reported, the others still cleaned
            failed.append(f"{instance.service}/{instance.instance}: release {release}: {exc}")
    for service in {spec.name for spec in runtime.services}:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not await runtime.ready(service) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
    network = runtime.network
    if network is not None:  # network rules, qdiscs, helper containers
        try:
            net_removed, net_failed = await network_leftovers.remove(network)
        except Exception as exc:  # noqa: BLE001 - reported, the rest still cleaned
            net_removed, net_failed = [], [f"network namespaces: {exc}"]
        removed += net_removed
        failed += net_failed
    token = runtime.control_token()
    urls = {spec.name: runtime.base_url(spec.name) for spec in runtime.services}
    async with aiohttp.ClientSession() as session:
        control = ControlClient(urls, token or "", session)
        for service in urls:
            if token is None:
                break
            try:
                rules = await control.list(service)
                tags = sorted({str(r.get("tag")) for r in rules})
                for tag in (t for t in tags if t.startswith(RUN_TAG_PREFIX)):
                    count = await control.remove_tag(service, tag)
                    removed.append(f"{service}: {count} fault rule(s) tagged {tag}")
            except ControlApiError as exc:
                failed.append(str(exc))
    return removed, failed


def run(args: argparse.Namespace, context: Context) -> int:
    runtime = context.make_runtime(choice_of(args))
    removed, failed = asyncio.run(clean(runtime))
    ledger = Ledger(args.state_dir)
    cleaned = not failed and runtime.control_token() is not None  # rules read and removed
    if cleaned and ledger.path.exists():  # what it names is gone: forget it
        forgotten = ledger.clear()
        if forgotten:
            what = "unreadable" if forgotten < 0 else f"of {forgotten} fault(s)"
            removed.append(f"the Chaos Toolkit activities' record, {what} ({ledger.path})")
    for line in removed:
        context.say(f"removed: {line}")
    for line in failed:
        context.complain(f"could not clean: {line}")
    if not removed and not failed:
        context.say(
            "nothing left over: no run's fault rules, network rules or qdiscs, "
            "no paused or stopped instance, no deployed release"
        )
    return ExitCode.INFRASTRUCTURE_FAILED if failed else ExitCode.OK


def configure(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)


COMMAND = Command(
    name="cleanup",
    help="remove every fault a run left behind, and say what was removed",
    description="Finds and removes what any run left: fault rules tagged chaosbed-run-* on "
    "every service, paused instances (resumed), stopped ones (started), instances on a "
    "release a deploy set (restarted with their own environment), in the "
    "docker and cluster runtimes network rules, qdiscs and helper containers (in every "
    "container's or pod's namespace), in the cluster runtime also stopped nodes (started), "
    "cuts between nodes and helper pods; then forgets the Chaos "
    "Toolkit activities' record of the faults they injected (docs/ctk.md). Prints each "
    "removal; with nothing left over it says so and exits 0.",
    configure=configure,
    run=run,
)
