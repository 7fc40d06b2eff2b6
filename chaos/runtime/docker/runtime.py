"""The docker runtime: the stack as the compose project in compose/.

`up` checks the engine, the images and the ports, then runs `docker compose
up -d --wait` (never building or pulling) and returns once every container
is healthy. Missing images are an error (ImagesMissing, naming how to build
them) unless the runtime was made with `build=True` (`chaosbed up --build`):
then `up` runs compose/build-images.sh first, which works offline. Like the
process runtime, `up` is refused with AlreadyRunning while any container of
the project runs (running, restarting or paused), and then changes nothing:
no new token, no recreated container. Containers left stopped (exited,
created: after `docker compose stop`, a reboot, a failed daemon) do not
count: `up` brings them up as usual, and compose starts or recreates them,
keeping the volumes. When `up` fails, it removes what it started; if that
cleanup fails too, the error still says why `up` failed, and adds why the
cleanup did. Interrupted (Ctrl-C, SIGTERM turned into an exception by the
CLI), it stops compose and runs `down`, with further interrupts deferred
until that is done. `down` runs `docker compose down` and keeps the volumes
(profile data), as the process runtime keeps its data dir. `status` reads
the containers through the docker SDK and probes every service on 127.0.0.1,
as the process runtime does.

Compose's Prometheus scrapes the services and, as the job `load`, the load
generator's member-side metrics on host.docker.internal, port 9095 on the
usual layout, else the stack's (chaos.runtime.layout): `up` writes that
target to <state_dir>/load-targets.json and compose mounts it
(CHAOSBED_LOAD_TARGETS); the same for `chaosbed monkey`'s metrics, the job
`monkey` (port 9096 on the usual layout; <state_dir>/monkey-targets.json,
CHAOSBED_MONKEY_TARGETS). host.docker.internal is a name compose maps to the
host (`extra_hosts: host-gateway`: docker0's address by default).
`load_metrics_host()` reads that address from the Prometheus container's
/etc/hosts, so the runner binds its /metrics exactly where Prometheus looks.

The control-API token works as in the process runtime: CHAOSBED_CONTROL_TOKEN
if set, else a generated one, kept in <state_dir>/token for the runner.

`deploy` recreates one service's container (`docker compose up --no-deps
--force-recreate`) with a compose file of its own merged over the project's,
setting the release's variables for that service only
(<state_dir>/release/<service>.compose.json); with no variables, with the
project's file alone: the container as compose defines it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from chaos.project import BUILD_IMAGES_SCRIPT
from chaos.runtime.base import RuntimeBase
from chaos.runtime.control_token import TOKEN_VARIABLE, ensure_token, read_token
from chaos.runtime.errors import (
    AlreadyRunning,
    ComposeFailed,
    ImagesMissing,
    InvalidStack,
    NotRunning,
    PortBusy,
    ServiceNeverHealthy,
    UnknownService,
)
from chaos.runtime.health import Probe, port_free, probe
from chaos.runtime.interface import InstanceState, ServiceStatus
from chaos.runtime.interrupts import interrupts_deferred
from chaos.runtime.layout import PORT_BASE_VARIABLE, StackPorts, ports_for
from chaos.runtime.stack import ServiceSpec, check_start_order
from chaos.runtime.state_dir import StatePaths, write_atomically
from services.topology import HOST, PROMETHEUS_PORT, host_port_variable

from .compose_project import ComposeProject, default_compose_file
from .container_status import ContainerInfo, container_status, runs
from .engine import Engine, connect
from .images import IMAGES, build_images
from .instances import ContainerInstances
from .netns import Namespaces

__all__ = ["HOST_GATEWAY_NAME", "PROMETHEUS", "DockerRuntime", "host_port_variables"]

#: Prometheus runs in the compose stack too; status reports it after the services.
PROMETHEUS = ServiceSpec("prometheus", "prometheus", PROMETHEUS_PORT)
_PROBES = {PROMETHEUS.name: ("/-/healthy", "/-/ready")}
_SERVICE_PROBES = ("/healthz", "/readyz")
#: The file_sd file compose mounts for Prometheus's job `load`; Grafana's host port.
LOAD_TARGETS_VARIABLE = "CHAOSBED_LOAD_TARGETS"
MONKEY_TARGETS_VARIABLE = "CHAOSBED_MONKEY_TARGETS"
MONKEY_PORT_VARIABLE = host_port_variable("monkey")
#: `down` takes every container of the project, a monkey or Grafana started in their
#: compose profiles among them (a running monkey is stopped first: SIGTERM, rollback)
ALL_PROFILES = ("--profile", "chaos", "--profile", "grafana")
GRAFANA_PORT_VARIABLE = host_port_variable("grafana")
#: The name of the host in compose's Prometheus container (extra_hosts: host-gateway).
HOST_GATEWAY_NAME = "host.docker.internal"
READY_TIMEOUT_S = 180.0


class DockerRuntime(RuntimeBase):
    def __init__(
        self,
        state_dir: Path = Path(".chaosbed"),
        *,
        services: Sequence[ServiceSpec] | None = None,
        ports: StackPorts | None = None,
        compose_file: Path | None = None,
        project: str | None = None,
        ready_timeout_s: float | None = None,
        environ: Mapping[str, str] | None = None,
        images: Sequence[str] = IMAGES,
        prometheus_port: int | None = None,
        engine_factory: Callable[[], Any] | None = None,
        build: bool = False,
        build_script: Path | None = None,
        stop_grace_s: float = 10.0,
    ) -> None:
        """`ports`: the stack's layout (default: the one in `state_dir`, see
        chaos.runtime.layout), which gives the services' and Prometheus's host
        ports, the load generator's port and the compose project's name unless
        `services`, `prometheus_port` or `project` say otherwise."""
        self.paths = StatePaths.at(state_dir)
        given = os.environ if environ is None else environ
        self.ports = ports or ports_for(self.paths.root, environ=given)
        self.services = self.ports.specs() if services is None else tuple(services)
        self.prometheus = ServiceSpec(
            PROMETHEUS.name, PROMETHEUS.module, prometheus_port or self.ports.prometheus
        )
        self.environ = {
            **given,
            **host_port_variables(self.watched),
            LOAD_TARGETS_VARIABLE: str(self.load_targets_file),
            MONKEY_TARGETS_VARIABLE: str(self.monkey_targets_file),
            GRAFANA_PORT_VARIABLE: str(self.ports.grafana),
            # the compose `chaos` profile's monkey finds the stack from these
            MONKEY_PORT_VARIABLE: str(self.ports.monkey),
            PORT_BASE_VARIABLE: "" if self.ports.base is None else str(self.ports.base),
        }
        self.compose = ComposeProject(
            compose_file or default_compose_file(self.environ),
            project or self.ports.project,
            self.environ,
        )
        self.ready_timeout_s = READY_TIMEOUT_S if ready_timeout_s is None else ready_timeout_s
        self.images = tuple(images)
        self._engine_factory = engine_factory
        self.build = build
        self.build_script = build_script
        self._instances = ContainerInstances(
            self._connect,
            self.compose.name,
            [spec.name for spec in self.services],
            stop_grace_s,
            deployed=self.paths.release_of,
        )
        self._namespaces = Namespaces(
            self._connect,
            self.compose.name,
            [spec.name for spec in self.services],
            scraper=self.prometheus.name,
        )

    @property
    def watched(self) -> tuple[ServiceSpec, ...]:
        """Everything `status` reports: the services, then Prometheus."""
        return (*self.services, self.prometheus)

    # -- up ----------------------------------------------------------------

    def up(self) -> list[ServiceStatus]:
        try:
            check_start_order(self.services)
        except ValueError as error:
            raise InvalidStack(str(error)) from error
        self.compose.check()
        engine = self._connect()
        try:
            running = self._running(engine.project_containers(self.compose.name))
            if running:
                raise AlreadyRunning(self.paths.root, project=self.compose.name, containers=running)
            missing = engine.missing_images(self.images)
            if missing and self.build:
                self._build_images()
                missing = engine.missing_images(self.images)
            if missing:
                raise ImagesMissing(missing)
            self._check_ports()
            self.ports.write(self.paths, "docker")
            self._write_load_targets()
            token = ensure_token(self.paths, self.environ)
            compose = ComposeProject(
                self.compose.file, self.compose.name, {**self.environ, TOKEN_VARIABLE: token}
            )
            started = time.monotonic()
            try:
                compose.run(
                    "up", "--detach", "--wait", "--wait-timeout", str(int(self.ready_timeout_s)),
                    "--no-build", "--pull", "never", "--remove-orphans",
                    timeout_s=self.ready_timeout_s + 60,
                )  # fmt: skip
            except ComposeFailed as failure:
                never_healthy = self._never_healthy(engine, started, failure)
                with interrupts_deferred():
                    try:
                        compose.run(*ALL_PROFILES, "down", "--remove-orphans", timeout_s=120)
                    except Exception as cleanup:  # never hide why `up` failed behind this
                        never_healthy = never_healthy.after_failed_cleanup(cleanup)
                raise never_healthy from failure
            except BaseException:  # interrupted (Ctrl-C, SIGTERM): leave nothing running
                with interrupts_deferred():
                    compose.run(*ALL_PROFILES, "down", "--remove-orphans", timeout_s=120)
                raise
            return self._status(engine)
        finally:
            engine.close()

    @property
    def load_targets_file(self) -> Path:
        """Where Prometheus's job `load` looks (a file_sd list, mounted read-only)."""
        return self.paths.root / "load-targets.json"

    @property
    def monkey_targets_file(self) -> Path:
        """Where Prometheus's job `monkey` looks (a file_sd list, mounted read-only)."""
        return self.paths.root / "monkey-targets.json"

    def _write_load_targets(self) -> None:
        """The file_sd lists of the jobs `load` and `monkey`: the host, on the stack's ports."""
        for path, port in (
            (self.load_targets_file, self.ports.load),
            (self.monkey_targets_file, self.ports.monkey),
        ):
            text = json.dumps([{"targets": [f"{HOST_GATEWAY_NAME}:{port}"]}]) + "\n"
            write_atomically(path, text, mode=0o644)  # Prometheus runs as nobody

    def _build_images(self) -> None:
        build_images(self.environ, self.build_script or BUILD_IMAGES_SCRIPT)

    def _running(self, containers: Mapping[str, ContainerInfo]) -> list[str]:
        """The services whose container runs (or restarts, or is paused): status order first."""
        order = {spec.name: index for index, spec in enumerate(self.watched)}
        names = [name for name, info in containers.items() if runs(info)]
        return sorted(names, key=lambda name: (order.get(name, len(order)), name))

    def _check_ports(self) -> None:
        # No container of the project runs (see up), so every port must be free.
        for spec in self.watched:
            if not port_free(spec.port):
                raise PortBusy(spec.name, spec.port)

    def _never_healthy(
        self, engine: Engine, started: float, failure: ComposeFailed
    ) -> ServiceNeverHealthy:
        """Why `up` failed, from the containers, else from compose's output. It never
        raises: reading why must not keep `up` from taking the stack down."""
        waited = time.monotonic() - started
        try:
            containers = engine.project_containers(self.compose.name)
            for spec in self.watched:
                info = containers.get(spec.name)
                status = container_status(spec, info)
                if status.state != "running" or not status.ready:
                    why = status.detail or "no container"
                    tail = engine.log_tail(info.id) if info else ""
                    return ServiceNeverHealthy(spec.name, spec.port, waited, why, tail)
        except Exception:  # the engine failing now must not hide why `up` failed:
            pass  # compose's own output says it, below
        last = failure.output.strip().splitlines()[-1:] or [f"exit {failure.code}"]
        return ServiceNeverHealthy(
            self.compose.name, 0, waited, f"docker compose up failed: {last[0]}", ""
        )

    # -- down --------------------------------------------------------------

    def down(self) -> bool:
        """Remove the project's containers and network; False when none existed.

        Volumes are kept: profile data survives `down` and the next `up`
        (`docker compose -f compose/docker-compose.yml down -v` drops them).
        """
        engine = self._connect()
        try:
            if not engine.project_containers(self.compose.name):
                return False
        finally:
            engine.close()
        self.compose.run(*ALL_PROFILES, "down", "--remove-orphans", timeout_s=180)
        return True

    # -- reaching the services ----------------------------------------------

    def prometheus_url(self) -> str:
        """Compose's Prometheus, published on 127.0.0.1: part of every compose stack."""
        return f"http://{HOST}:{self.prometheus.port}"

    def load_metrics_host(self) -> str:
        """The host's address as compose's Prometheus container sees it (host.docker.internal).

        NotRunning when that container does not run: the address is the engine's
        to choose, and only a running container tells it.
        """
        engine = self._connect()
        try:
            info = engine.project_containers(self.compose.name).get(self.prometheus.name)
            address = None
            if info is not None and runs(info):
                address = engine.resolve_in(info.id, HOST_GATEWAY_NAME)
        finally:
            engine.close()
        if address is None:
            where = f"no running prometheus container in the compose project {self.compose.name}"
            raise NotRunning("docker", f"{where} to tell the host's address")
        return address

    def load_metrics_port(self) -> int:
        """Where compose's Prometheus looks for the load generator (CHAOSBED_LOAD_HOST_PORT)."""
        return self.ports.load

    # -- network namespaces, for the network faults (netns.py) ------------------

    @property
    def network(self) -> Namespaces:
        return self._namespaces

    async def expire_pause(
        self, instances: Sequence[str], after_s: float, owner: str
    ) -> Callable[[], Awaitable[None]] | None:
        """A helper container the engine runs (netns.py `arm_unpause`): it outlives
        the caller's process and the caller's container alike."""
        helper = await self._namespaces.arm_unpause(instances, after_s, owner)
        if helper is None:  # an engine a helper cannot reach: the caller arms its own
            return None
        return functools.partial(self._namespaces.remove_helper, helper)

    # -- process-layer faults (see instances.py; the others in chaos/runtime/base.py) --

    async def deploy(self, instance: str, env: Mapping[str, str]) -> InstanceState:
        found = next((i for i in await self.instances() if i.instance == instance), None)
        if found is None:
            known = [i.instance for i in await self.instances()]
            raise UnknownService(instance, known, what="instance")
        service = found.service
        override = self.paths.release_dir / f"{service}.compose.json"
        self.paths.set_release(service, dict(env))
        if env:
            document = {"services": {service: {"environment": dict(env)}}}
            override.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(override, json.dumps(document, indent=2))
        token = read_token(self.paths, self.environ) or ""
        compose = ComposeProject(
            self.compose.file,
            self.compose.name,
            {**self.environ, TOKEN_VARIABLE: token},
            (override,) if env else (),
        )
        await asyncio.to_thread(
            compose.run,
            "up", "--detach", "--wait", "--wait-timeout", str(int(self.ready_timeout_s)),
            "--no-deps", "--force-recreate", "--no-build", "--pull", "never", service,
            timeout_s=self.ready_timeout_s + 60,
        )  # fmt: skip
        if not env:
            override.unlink(missing_ok=True)
        return found

    # -- status ------------------------------------------------------------

    def status(self) -> list[ServiceStatus]:
        engine = self._connect()
        try:
            return self._status(engine)
        finally:
            engine.close()

    def _status(self, engine: Engine) -> list[ServiceStatus]:
        containers = engine.project_containers(self.compose.name)
        statuses = []
        for spec in self.watched:
            status = container_status(spec, containers.get(spec.name))
            if status.state in ("running", "starting"):
                health_path, ready_path = _PROBES.get(spec.name, _SERVICE_PROBES)
                healthz, readyz = probe(spec.port, health_path), probe(spec.port, ready_path)
                status.healthy, status.ready = healthz.ok, readyz.ok
                status.detail = _with_probe(status.detail, ready_path, readyz)
            statuses.append(status)
        return statuses

    def _connect(self) -> Engine:
        return connect(self._engine_factory)


def host_port_variables(specs: Sequence[ServiceSpec]) -> dict[str, str]:
    """The compose file publishes each service on `host_port_variable(name)` (default:
    its port)."""
    return {host_port_variable(spec.name): str(spec.port) for spec in specs}


def _with_probe(detail: str, path: str, answer: Probe) -> str:
    if answer.ok:
        return detail
    return f"{detail}; {path}: {answer.describe()}" if detail else f"{path}: {answer.describe()}"
