"""What both runtimes do the same way, written once: `RuntimeBase`.

A runtime reaches its services on their published ports on 127.0.0.1, reads
the control-API token from its state directory (or CHAOSBED_CONTROL_TOKEN),
and hands the process-layer faults to its own `InstanceActions` (the process
runtime's instances.py, the docker runtime's). Each runtime keeps only what
differs: the lifecycle, status, where Prometheus is, `deploy`, and `network`
(None here: a runtime with network namespaces says so by returning its
NetworkLayer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from .control_token import read_token
from .errors import InstanceActionFailed
from .health import probe
from .interface import InstanceFaults, InstanceState
from .network import NetworkLayer
from .node_layer import NodeLayer
from .stack import ServiceSpec, spec_named
from .state_dir import StatePaths

__all__ = ["InstanceActions", "RuntimeBase"]


class InstanceActions(InstanceFaults, Protocol):
    """The process-layer faults as a runtime implements them (see interface.py)."""

    async def snapshot(self, service: str | None = None) -> list[InstanceState]: ...


class RuntimeBase:
    """A subclass sets `services`, `paths`, `environ` and `_instances` in its __init__."""

    services: tuple[ServiceSpec, ...]
    paths: StatePaths
    environ: dict[str, str]
    _instances: InstanceActions

    # -- reaching the services ----------------------------------------------

    def base_url(self, service: str) -> str:
        return spec_named(self.services, service).base_url

    def control_token(self) -> str | None:
        return read_token(self.paths, self.environ)

    def load_metrics_push_url(self) -> str | None:
        return None  # the runtime's Prometheus scrapes the load generator

    async def ready(self, service: str) -> bool:
        port = spec_named(self.services, service).port
        return (await asyncio.to_thread(probe, port, "/readyz")).ok

    # -- what this runtime can do ---------------------------------------------

    @property
    def network(self) -> NetworkLayer | None:
        """No network namespaces of its own (the services share the host's)."""
        return None

    @property
    def nodes(self) -> NodeLayer | None:
        """One machine: no nodes."""
        return None

    # -- process-layer faults (the runtime's InstanceActions) -------------------

    async def instances(self, service: str | None = None) -> list[InstanceState]:
        return await self._instances.snapshot(service)

    async def kill(self, instance: str) -> InstanceState:
        return await self._instances.kill(instance)

    async def hold(self, instance: str) -> InstanceState:
        return await self._instances.hold(instance)

    async def stop(self, instance: str) -> InstanceState:
        return await self._instances.stop(instance)

    async def start(self, instance: str) -> InstanceState:
        return await self._instances.start(instance)

    async def pause(self, instance: str) -> InstanceState:
        return await self._instances.pause(instance)

    async def unpause(self, instance: str) -> InstanceState:
        return await self._instances.unpause(instance)

    async def restart(self, instance: str) -> InstanceState:
        return await self._instances.restart(instance)

    async def delete(self, instance: str) -> InstanceState:
        raise InstanceActionFailed(
            instance, "delete", "only on the cluster runtime (nothing here would replace it)"
        )

    async def expire_pause(
        self, instances: Sequence[str], after_s: float, owner: str
    ) -> Callable[[], Awaitable[None]] | None:
        return None  # no machinery of its own: the caller arms one (chaos.monkey.expiry)
