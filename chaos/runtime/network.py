"""What a runtime with network namespaces offers the network faults (`Runtime.network`).

The network faults (chaos.faults.network) put iptables and tc rules into the
services' network namespaces and read them back; a runtime that has such
namespaces hands them a `NetworkLayer`, one that has none (the process
runtime: every service shares the host's) hands them None. The docker
runtime's layer is chaos/runtime/docker/netns.py: a helper container with
NET_ADMIN that shares one container's namespace per command batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Namespace", "NetworkLayer"]


@dataclass(frozen=True)
class Namespace:
    """One instance's network namespace: its addresses and listening port.

    `container` and `container_id` name the instance that holds it (the
    container and its id, in the docker runtime; the pod and its uid, in the
    cluster runtime), `host` the machine it is on where there are several (the
    cluster's node)."""

    service: str
    container: str
    container_id: str
    addresses: tuple[str, ...]
    port: int | None
    host: str = ""


class NetworkLayer(Protocol):
    @property
    def services(self) -> tuple[str, ...]:
        """The stack's services (the peers a fault may cut)."""
        ...

    @property
    def scraper(self) -> str:
        """The service that scrapes every other one (Prometheus): never cut, and
        its reach to an isolated service is checked."""
        ...

    async def all(self) -> list[Namespace]:
        """The namespace of every running instance of the stack (the scraper's too)."""
        ...

    async def run(self, namespace: Namespace, argv: Sequence[str], run_id: str) -> str:
        """Run `argv` (iptables, tc, a probe) in `namespace`; its output. The
        helper it runs in is labelled with `run_id`. Raises InstanceActionFailed
        when the command fails."""
        ...

    async def expire(
        self, namespace: Namespace, script: str, after_s: float, run_id: str, name: str
    ) -> None:
        """Run `script` in `namespace` `after_s` seconds from now, whatever becomes of
        the caller (a fault's TTL), in a helper called `name` (the caller names it
        first, so that it can cancel it with `remove_helper` whatever happens)."""
        ...

    async def helpers(self, *, stale_only: bool = False) -> list[str]:
        """The helpers of this stack still there (`stale_only`: those a killed
        runner left, not a live run's)."""
        ...

    async def remove_helper(self, name: str) -> None: ...
