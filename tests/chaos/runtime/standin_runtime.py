"""Small stand-ins for a runtime and its network namespaces, for tests of the code
that asks a runtime what it can do (wiring, cleanup) without starting a stack.

`StandinNetwork` keeps its namespaces in memory: what a killed run left in
one of them (a chain, its jumps, a qdisc) and helper containers, and it
applies the removal scripts cleanup runs, so that a second look finds
nothing. `StandinRuntime` has no instances and says every service is ready.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from chaos.faults.network.leftovers import READ
from chaos.runtime.interface import InstanceState, ServiceStatus
from chaos.runtime.network import Namespace, NetworkLayer
from chaos.runtime.node_layer import NodeLayer
from chaos.runtime.stack import ServiceSpec, spec_named

LEFT_CHAIN = "cb-20261122T040205361e71-1"
LEFT_BY_A_KILLED_RUN = f"""*filter
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:{LEFT_CHAIN} - [0:0]
-A INPUT -m comment --comment chaosbed-run-x -j {LEFT_CHAIN}
-A {LEFT_CHAIN} -s 172.18.0.3/32 -j DROP
COMMIT
#--tc--
qdisc tbf cb3f: root refcnt 2 rate 256Kbit burst 1600b lat 50ms
"""
CLEAN = "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n#--tc--\nqdisc noqueue 0: root refcnt 2\n"
CATALOG = Namespace("catalog", "chaosbed-catalog-1", "id-catalog", ("172.18.0.2",), 8081)


class StandinNetwork:
    """A NetworkLayer with one namespace (catalog's) holding what a killed run left."""

    scraper = "prometheus"

    def __init__(self) -> None:
        self.services: tuple[str, ...] = ("catalog",)
        self.saved = {CATALOG.container: LEFT_BY_A_KILLED_RUN}
        self.left_helpers = ["chaosbed-net-helper-1"]
        self.scripts: list[str] = []

    async def all(self) -> list[Namespace]:
        return [CATALOG]

    async def run(self, namespace: Namespace, argv: Sequence[str], run_id: str) -> str:
        script = argv[-1]
        if script == READ:
            return self.saved[namespace.container]
        self.scripts.append(script)
        if f"iptables -w -X {LEFT_CHAIN}" in script:
            self.saved[namespace.container] = CLEAN
        return ""

    async def expire(
        self, namespace: Namespace, script: str, after_s: float, run_id: str, name: str
    ) -> None:
        self.left_helpers.append(name)

    async def helpers(self, *, stale_only: bool = False) -> list[str]:
        return list(self.left_helpers)

    async def remove_helper(self, name: str) -> None:
        self.left_helpers.remove(name)


class StandinRuntime:
    """A Runtime with no instances, whose services (none unless given) answer ready
    wherever they are; `network` and the control token as given."""

    def __init__(
        self,
        network: NetworkLayer | None = None,
        *,
        services: Sequence[ServiceSpec] = (),
        token: str | None = None,
    ) -> None:
        self._network = network
        self.services = tuple(services)
        self._token = token

    @property
    def network(self) -> NetworkLayer | None:
        return self._network

    @property
    def nodes(self) -> NodeLayer | None:
        return None  # one machine

    def up(self) -> list[ServiceStatus]:
        raise NotImplementedError("a stand-in runs no stack")

    def down(self) -> bool:
        return False

    def status(self) -> list[ServiceStatus]:
        return []

    def base_url(self, service: str) -> str:
        return spec_named(self.services, service).base_url

    def control_token(self) -> str | None:
        return self._token

    async def ready(self, service: str) -> bool:
        return True

    def prometheus_url(self) -> str | None:
        return None

    def load_metrics_push_url(self) -> str | None:
        return None

    def load_metrics_host(self) -> str:
        return "127.0.0.1"

    def load_metrics_port(self) -> int:
        return 0

    async def instances(self, service: str | None = None) -> list[InstanceState]:
        return []

    async def kill(self, instance: str) -> InstanceState:
        raise NotImplementedError("a stand-in has no instances")

    async def hold(self, instance: str) -> InstanceState:
        raise NotImplementedError("a stand-in has no instances")

    async def stop(self, instance: str) -> InstanceState:
        raise NotImplementedError("a stand-in has no instances")

    async def start(self, instance: str) -> InstanceState:
        raise NotImplementedError("a stand-in has no instances")

    async def pause(self, instance: str) -> InstanceState:
        raise NotImplementedError("a stand-in has no instances")

    async def unpause(self, instance: str) -> InstanceState:
        raise NotImplementedError("a stand-in has no instances")

    async def expire_pause(
        self, instances: Sequence[str], after_s: float, owner: str
    ) -> Callable[[], Awaitable[None]] | None:
        return None

    async def restart(self, instance: str) -> InstanceState:
        raise NotImplementedError("a stand-in has no instances")

    async def deploy(self, instance: str, env: Mapping[str, str]) -> InstanceState:
        raise NotImplementedError("a stand-in has no instances")

    async def delete(self, instance: str) -> InstanceState:
        raise NotImplementedError("a stand-in has no instances")
