"""What every runtime offers: the process runtime (`chaos.runtime.process`) and the
docker runtime (`chaos.runtime.docker`) both satisfy `Runtime`.

A runtime says what it can do through this interface, so that no caller
asks which class it holds. Every runtime can act on its instances (the
process-layer faults below); `network` is its network namespaces, for the
network-layer faults and their cleanup, or None when it has none (the process
runtime). What both runtimes do the same way is written once, in base.py.

Four groups of members:

* the stack's lifecycle, for the CLI: `up`, `down`, `status` (blocking);
* what a runner needs to reach the services: `services`, `base_url`,
  `control_token`, `ready`, and health and readiness of all in `status`;
  and to read SLIs from the stack's Prometheus: `prometheus_url` (None when no
  Prometheus runs with the stack: the scrape backend then) and
  `load_metrics_host` and `load_metrics_port` (where the load generator
  serves its /metrics so that this Prometheus scrapes it, as the job `load`);
* `network`: the services' network namespaces (chaos.runtime.network), or None;
* process-layer faults on one instance of a service (a supervised process, a
  container), async because the docker SDK is called in a thread:

  ===========  =================================================  ====================
  method       what happens to the instance                       undone by
  ===========  =================================================  ====================
  `kill`       SIGKILL to its main process; the supervisor        (comes back itself)
               (docker: the restart policy) starts it again
  `hold`       SIGKILL, and it is kept down                       `start`
  `stop`       SIGTERM, SIGKILL after the grace period; kept down `start`
  `start`      a held or stopped instance runs again              —
  `pause`      frozen: SIGSTOP (docker: cgroup freezer)           `unpause`
  `unpause`    thawed: SIGCONT (docker unpause)                   —
  `restart`    `stop`, then `start`                               —
  `deploy`     `restart` with variables set on top of its own     `deploy` with none
               environment (a release); none: its own again
  `delete`     a pod deleted through the API, gracefully; its     (its controller
               controller replaces it (cluster only)              replaces it)
  ===========  =================================================  ====================

  Each returns the instance as it was found just before acting (the pid it
  signalled, for instance); `hold`, `stop` and `restart` return once the old
  process has exited (`deploy` too). `instances` tells how each instance is now,
  so that an injection can be verified (a new pid after `kill`, `paused` after
  `pause`, the release it runs after `deploy`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from .network import NetworkLayer
from .node_layer import NodeLayer
from .stack import ServiceSpec

__all__ = ["InstanceFaults", "InstanceState", "Runtime", "RunState", "ServiceStatus"]

#: How an instance is, as far as faults are concerned.
RunState = Literal["running", "paused", "stopped"]


@dataclass
class ServiceStatus:
    """How one service is doing, as `status` reports it.

    `state` is one of: waiting (for its dependencies), starting, running,
    restarting (after an exit, during its backoff), stopping, held (kept
    stopped on request), paused (SIGSTOP), failed (gave up restarting),
    orphaned (alive but its supervisor is gone), stopped.
    """

    name: str
    port: int
    pid: int | None
    state: str
    healthy: bool
    ready: bool
    restarts: int = 0
    detail: str = ""


@dataclass(frozen=True)
class InstanceState:
    """One instance of a service, now.

    `instance` is the id the fault methods take: the service name in the
    process runtime (one process per service), the container name in the
    docker runtime, the pod in the cluster runtime. `pid` is its main process
    as its host sees it (the cluster: its node; None when stopped);
    `container_id` is set by the docker and cluster runtimes.
    `detail` is the runtime's own word for the state (restarting, held,
    starting, exited ...). `release` is what a `deploy` set on top of the
    instance's own environment for the process that runs now (empty: its own).
    `uid` is the orchestrator's id of this very instance (the cluster runtime: the
    pod's uid; a StatefulSet's replacement has the old name and another uid);
    `going`, that its orchestrator is removing it (a pod being deleted: out of its
    Service already, and gone by itself once its processes end). `unread` says why
    its processes could not be read (the cluster: its node's agent did not
    answer): `state` is then only what the orchestrator says, and nothing that
    needs its process (a kill, pause or deletion seen, a leftover ruled out)
    may take it as evidence.
    """

    service: str
    instance: str
    state: RunState
    pid: int | None
    container_id: str | None = None
    restarts: int = 0
    detail: str = ""
    release: tuple[tuple[str, str], ...] = ()
    uid: str | None = None
    going: bool = False
    unread: str | None = None


class InstanceFaults(Protocol):
    """The process-layer faults, one instance at a time: what a runtime offers,
    and what each runtime's own instance module implements for it (base.py)."""

    async def kill(self, instance: str) -> InstanceState: ...

    async def hold(self, instance: str) -> InstanceState: ...

    async def stop(self, instance: str) -> InstanceState: ...

    async def start(self, instance: str) -> InstanceState: ...

    async def pause(self, instance: str) -> InstanceState: ...

    async def unpause(self, instance: str) -> InstanceState: ...

    async def restart(self, instance: str) -> InstanceState: ...


class Runtime(InstanceFaults, Protocol):
    @property
    def services(self) -> tuple[ServiceSpec, ...]:
        """The stack's services, in start order."""
        ...

    # -- lifecycle -------------------------------------------------------------

    def up(self) -> list[ServiceStatus]:
        """Start the stack; return once every service is ready. Raises RuntimeFailure.

        Interrupted (KeyboardInterrupt, or any exception), it stops whatever
        it had started before it lets the interruption through.
        """
        ...

    def down(self) -> bool:
        """Stop everything `up` started; False when nothing was running."""
        ...

    def status(self) -> list[ServiceStatus]:
        """How each service is doing (process, /healthz, /readyz), in start order."""
        ...

    # -- reaching the services --------------------------------------------------

    def base_url(self, service: str) -> str:
        """``http://127.0.0.1:<port>`` of `service`; UnknownService if there is none."""
        ...

    def control_token(self) -> str | None:
        """The bearer token of the services' fault-control API, or None if it is off."""
        ...

    async def ready(self, service: str) -> bool:
        """Does `service` answer 200 on /readyz now? (A rollback waits for this.)"""
        ...

    # -- reading SLIs ------------------------------------------------------------

    def prometheus_url(self) -> str | None:
        """``http://127.0.0.1:<port>`` of the Prometheus that runs with this stack and
        scrapes its services; None when none does (the scrape backend is left)."""
        ...

    def load_metrics_host(self) -> str:
        """The address the runner's load generator binds its /metrics on (port
        `load_metrics_port()`) so that this runtime's Prometheus scrapes it as
        the job `load`. An address of this host, never 0.0.0.0. Raises
        RuntimeFailure when it cannot be told."""
        ...

    def load_metrics_port(self) -> int:
        """The port this runtime's Prometheus scrapes the load generator on (9095
        on the usual layout; see chaos.runtime.layout)."""
        ...

    def load_metrics_push_url(self) -> str | None:
        """Where the load generator pushes its metrics (Prometheus remote write), for a
        Prometheus that cannot scrape this machine (a cluster attached to); None
        when the runtime's Prometheus scrapes them."""
        ...

    # -- network namespaces ------------------------------------------------------

    @property
    def network(self) -> NetworkLayer | None:
        """The services' network namespaces, where the network faults put their rules
        (and `chaosbed cleanup` looks for what they left); None when this runtime
        has none: network faults then run only as their application-layer stand-ins."""
        ...

    # -- nodes -----------------------------------------------------------------

    @property
    def nodes(self) -> NodeLayer | None:
        """The cluster's nodes, where the node faults act; None when the services run
        on this machine alone (process, docker)."""
        ...

    # -- process-layer faults, per instance -------------------------------------

    async def instances(self, service: str | None = None) -> list[InstanceState]:
        """Every instance (of `service`, or of every service), in start order."""
        ...

    async def expire_pause(
        self, instances: Sequence[str], after_s: float, owner: str
    ) -> Callable[[], Awaitable[None]] | None:
        """Have the runtime's own machinery unpause `instances` (those still paused)
        `after_s` seconds from now, whatever becomes of the caller: what cancels it,
        or None when this runtime has no such machinery and the caller must arm its
        own (the docker runtime asks the engine; the process runtime has none)."""
        ...

    async def delete(self, instance: str) -> InstanceState:
        """The instance removed through its orchestrator (the cluster runtime: the pod
        deleted through the API, with its grace period), for its controller to
        replace; it returns at once with the instance as it was. Runtimes without an
        orchestrator raise InstanceActionFailed."""
        ...

    async def deploy(self, instance: str, env: Mapping[str, str]) -> InstanceState:
        """Restart `instance` with `env` set on top of its own environment (a
        release, kept across its crashes and restarts until the next deploy); an
        empty `env` restarts it with its own environment again. Returns once the
        old process (container) is gone."""
        ...
