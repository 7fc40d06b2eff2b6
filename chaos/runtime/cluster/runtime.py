"""The cluster runtime: the stack on the one-machine Kubernetes cluster (cluster.py),
behind the same interface as the process and docker runtimes.

`up` checks the images and binaries, then brings up the control plane (its
processes in sessions of their own, recorded in <state_dir>/cluster so that
a later `down` stops them), the three node containers and the stack, with
the control API's token in the Secret `chaosbed-control` and the runner's
load-generator and monkey endpoints in the ConfigMap `chaosbed-runner-targets`
(Prometheus in the cluster scrapes them as the jobs `load` and `monkey`, on
this machine's address on the nodes' bridge). It returns once every pod is
Ready and every Service and Prometheus answer at their addresses. One cluster
runs on a machine (its addresses and routes are fixed): `--port-base` is
refused.

The runner reaches a service at its Service's cluster address
(`http://10.96.0.x:<port>`, routed through a node), and the cluster's
Prometheus the same way.

An instance is a pod. The process-layer faults act on the pod's service
container's processes from a short-lived helper pod on its node that sees the
node's processes (`hostPID`, pod_processes.py), as the kubelet sees a crash or
a frozen process; no node's container engine is reached:

* `kill`: SIGKILL to the container's main process; the kubelet starts it again
  (the pod's restart policy), with a new container and process;
* `pause` / `unpause`: SIGSTOP to each of its processes, by a helper that holds
  the pause and sends SIGCONT when it is deleted (`unpause`) or after
  PAUSE_HELD_S, whatever becomes of the runner;
* `delete`: the pod deleted through the API (as the runner's ServiceAccount,
  with the pod's grace period: SIGTERM, SIGKILL 10 s later); its controller (a
  Deployment's ReplicaSet, or the StatefulSet, under the same name) creates a
  replacement, which the scheduler places;
* `hold`, `stop`, `start`, `restart` and `deploy` are refused: the kubelet
  starts a stopped container again, and a release is a rollout, not one
  pod's environment.

The network faults act in the pods' namespaces (`network`, netns.py), the node
faults on the node containers (`nodes`, ClusterNodeLayer below).

`InstanceState.pid` is the container's main process as its node sees it,
`paused` when that process is stopped (state T), `container_id` the id in the
node's engine: read by the node agent on the pod's node (agents.py, one pod per
node from node-agent.yaml), asked through the API server's proxy. A pod the API
says runs, on a node whose agent does not answer, is `running` with no pid and
its detail says why; nothing that needs its process (a pause seen, a pause
undone) counts on it.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import datetime
import http.client
import json
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from chaos.runtime.base import RuntimeBase
from chaos.runtime.control_token import TOKEN_VARIABLE, ensure_token
from chaos.runtime.errors import (
    AlreadyRunning,
    ImagesMissing,
    InstanceActionFailed,
    InvalidStack,
    NotRunning,
    PortBusy,
    UnknownService,
)
from chaos.runtime.health import port_free, probe
from chaos.runtime.interface import InstanceState, RunState, ServiceStatus
from chaos.runtime.layout import StackPorts, ports_for
from chaos.runtime.node_layer import CUT_CHAIN_PREFIX, NodeLayer, NodeState
from chaos.runtime.stack import STACK, ServiceSpec, spec_named
from chaos.runtime.state_dir import StatePaths, write_atomically
from services.topology import PROMETHEUS_PORT

from .agents import NodeAgents, NodesRead
from .attached import AttachedCluster, AttachedLayout, Attachment
from .cluster import (
    IMAGES,
    NAME_LABEL,
    NAMESPACE,
    RUNNER_PART,
    STACK_PARTS,
    OneMachineCluster,
    ready_pods,
)
from .control_plane import ControlPlane, ControlPlaneFailed, ControlPlanePorts
from .helper_pods import HELPER_TIMEOUT_S, HelperPods, failure, node_command, ready
from .kinds import CLUSTER_PAUSE_MAX_S
from .kubeconfig import ClusterApi
from .netns import PodNamespaces
from .nodes import (
    CLUSTER_LABEL,
    NODE_IMAGE,
    ClusterLayout,
    ClusterNodes,
    Node,
    ready_condition,
)
from .pod_processes import (
    PAUSED_MARK,
    kill_script,
    pause_script,
    resume_script,
)
from .service_proxy import MARK as PROXY_MARK
from .service_proxy import ServiceProxy

__all__ = ["PORTS", "ClusterRuntime"]

#: The control plane's ports on the nodes' bridge address: etcd (clients, peers), API.
PORTS = ControlPlanePorts(etcd=12379, etcd_peer=12380, api=16443)
CONTROL_SECRET = "chaosbed-control"
#: On a node a node_drain cordoned (when, Unix seconds): what cleanup may uncordon.
DRAINED = "chaosbed.io/drained-at"
#: The runner's ServiceAccount (cluster/kubernetes/runner-rbac.yaml): the identity of
#: every API call after `up`.
RUNNER_ACCOUNT = "chaosbed-runner"
RUNNER_TARGETS = "chaosbed-runner-targets"
PROMETHEUS = ServiceSpec("prometheus", "prometheus", PROMETHEUS_PORT)
READY_TIMEOUT_S = 180.0
#: Where `up` asks each Service whether it answers (Prometheus's own path).
ANSWER_PATHS = {PROMETHEUS.name: "/-/ready"}
SERVICE_CONTAINER = "service"
#: Where a node's cut goes (its pods' traffic: FORWARD; its own: INPUT, OUTPUT).
CUT_HOOKS = ("FORWARD", "INPUT", "OUTPUT")
#: The names of the cut chains in a node's namespace.
LIST_CUTS = (
    f'iptables -w -S | awk \'$1 == "-N" && index($2, "{CUT_CHAIN_PREFIX}") == 1 {{print $2}}\''
)
#: The helper pods of the node faults and of the process faults (those of the pods'
#: namespaces: netns.py).
NODE_HELPERS = "chaosbed-helper"
#: On a pause's helper: the uid of the pod it holds paused.
PAUSES = "chaosbed.io/pauses"
#: The longest a pause's helper holds it, whatever becomes of the runner (the kubelet's
#: liveness probe replaces a stopped container sooner).
PAUSE_HELD_S = CLUSTER_PAUSE_MAX_S + 10
PROBE_TIMEOUT_S = 2
NODE_STOP_ATTACHED = (
    "a node's machine is stopped and started by its provider (a cloud's API), which a"
    " cluster attached to with a kubeconfig does not give the runner"
)
#: How long the runner's token asked of a cluster attached to lasts (a day: `up` asks
#: again).
TOKEN_LIFETIME_S = 86400
#: A node container in these states has ended, with every process in it (or is gone):
#: its processes are not asked for. Any other state (running, paused, restarting, an
#: engine that did not say) is asked of its node agent.
MACHINE_DOWN = ("exited", "dead", "missing")
#: A GET from the helper's namespace: the status; "unreachable" when no connection was
#: made or no answer came in time; anything else as it was.
PROBE = """python3 - <<'END'
import socket, urllib.error, urllib.request
try:
    print(urllib.request.urlopen("{url}", timeout={timeout}).status)
except urllib.error.HTTPError as error:
    print(error.code)
except (urllib.error.URLError, OSError) as error:
    reason = getattr(error, "reason", error)
    if isinstance(reason, (ConnectionError, TimeoutError, socket.timeout, OSError)):
        print("unreachable", type(reason).__name__)
    else:
        print("error", reason)
END
"""


class ClusterRuntime(RuntimeBase):
    def __init__(
        self,
        state_dir: Path = Path(".chaosbed"),
        *,
        ports: StackPorts | None = None,
        ready_timeout_s: float | None = None,
        environ: Mapping[str, str] | None = None,
        build: bool = False,
        kubeconfig: Path | None = None,
        context: str | None = None,
    ) -> None:
        """`kubeconfig` (`up`): attach to the cluster it reaches (and `context` of it)
        instead of building the one-machine cluster; the commands after `up` find
        the attachment in the state directory."""
        self.paths = StatePaths.at(state_dir)
        given = os.environ if environ is None else environ
        self.ports = ports or ports_for(self.paths.root, environ=given)
        self.services = STACK  # each Service listens on the service's usual port
        self.environ = dict(given)
        self.ready_timeout_s = READY_TIMEOUT_S if ready_timeout_s is None else ready_timeout_s
        self.build = build
        work = self.paths.root / "cluster"
        self.attachment = (
            Attachment(kubeconfig.expanduser().resolve(), context)
            if kubeconfig is not None
            else Attachment.read(work)
        )
        self.layout: ClusterLayout | AttachedLayout
        self.cluster: OneMachineCluster | AttachedCluster
        if self.attachment is None:
            self.layout = ClusterLayout(self.ports.project)
            self.cluster = OneMachineCluster(self.layout, work, PORTS)
        else:
            self.cluster = AttachedCluster(self.attachment)
            self.layout = self.cluster.layout
        self._proxy: ServiceProxy | None = None
        self._proxy_lock = threading.Lock()
        self._pod_faults = PodInstances(self)
        self._instances = self._pod_faults
        self._nodes = ClusterNodeLayer(self)
        self._network = PodNamespaces(self, PROMETHEUS, node_state=self.machine_state)
        self._addresses: dict[str, str] = {}
        self._act_as_runner()

    @property
    def _runner_token(self) -> Path:
        return self.paths.root / "cluster" / "runner.token"

    def _act_as_runner(self) -> None:
        """Once the cluster is up, every API call of this runtime (status, runs, their
        faults, cleanup) is the runner's ServiceAccount's, with the rights
        runner-rbac.yaml grants and no more; `up` and `down` are the administrator's."""
        path = self._runner_token
        self.plane.bearer = path.read_text().strip() if path.is_file() else None

    @property
    def plane(self) -> ControlPlane | ClusterApi:
        return self.cluster.plane

    def machine_state(self, name: str, read: dict[str, Any] | None = None) -> str:
        """Whether the machine of the node `name` runs: its container's state on the
        one-machine cluster (running, exited, missing ...); on a cluster attached to,
        `running` while the API says the node is Ready (its node object, `read` when
        the caller has it), else unknown with why."""
        for node in self.layout.nodes:
            if node.container == name:
                return self.cluster.machine_state(node, read)
        return "missing"

    @property
    def nodes(self) -> NodeLayer:
        return self._nodes

    @property
    def network(self) -> PodNamespaces:
        return self._network

    # -- lifecycle -------------------------------------------------------------

    def up(self) -> list[ServiceStatus]:
        cluster = self.cluster
        if isinstance(cluster, AttachedCluster):
            return self._attach(cluster)
        if self.ports.base is not None:
            raise InvalidStack(
                "the cluster runtime runs one stack on a machine, on the services' usual"
                " ports: --port-base (CHAOSBED_PORT_BASE) is for the process and docker runtimes"
            )
        found = self._cluster_containers() + cluster.plane.running()
        if found:
            raise AlreadyRunning(self.paths.root, project=self.layout.name, containers=found)
        self.plane.bearer = None
        self._runner_token.unlink(missing_ok=True)
        missing = _missing_images((*IMAGES, NODE_IMAGE))
        if missing and self.build:
            from chaos.project import BUILD_IMAGES_SCRIPT
            from chaos.runtime.image_build import build_images

            build_images(self.environ, BUILD_IMAGES_SCRIPT, arguments=("--cluster",))
            missing = _missing_images((*IMAGES, NODE_IMAGE))
        if missing:
            raise ImagesMissing(missing)
        for name, port in (("etcd", PORTS.etcd), ("etcd", PORTS.etcd_peer), ("api", PORTS.api)):
            if not port_free(port):
                raise PortBusy(f"the cluster's {name}", port)
        self.ports.write(self.paths, "cluster")
        token = ensure_token(self.paths, self.environ)
        cluster.up(timeout_s=self.ready_timeout_s, prepare=lambda: self._prepare(token))
        try:
            self._runner_token.touch(mode=0o600)
            self._runner_token.write_text(self._account_token(RUNNER_ACCOUNT))
            self._act_as_runner()
            self._wait_answering(self.ready_timeout_s)
        except BaseException as failure:
            try:
                self.down()
            except Exception as cleanup:  # noqa: BLE001 - never hide why `up` failed
                failure.add_note(f"stopping what was started failed too: {cleanup}")
            raise
        return self.status()

    def _attach(self, cluster: AttachedCluster) -> list[ServiceStatus]:
        """The stack applied to the cluster the kubeconfig reaches (see attached.py):
        recorded first, so that `down` finds what an `up` that failed applied."""
        assert self.attachment is not None
        recorded = Attachment.read(self.paths.root / "cluster")
        if recorded is not None and recorded != self.attachment:
            raise InvalidStack(
                f"{self.paths.root} holds a stack attached with {recorded.kubeconfig}"
                f"{f' (context {recorded.context})' if recorded.context else ''}: "
                "`chaosbed down` it first, or give another --state-dir"
            )
        owned = OneMachineCluster(
            ClusterLayout(self.ports.project), self.paths.root / "cluster", PORTS
        )
        running = owned.running()
        if running:
            raise AlreadyRunning(self.paths.root, project="one-machine cluster", containers=running)
        self.plane.bearer = None
        self._runner_token.unlink(missing_ok=True)
        self.ports.write(self.paths, "cluster")
        self.attachment.write(self.paths.root / "cluster")
        cluster.up(timeout_s=self.ready_timeout_s, prepare=self._prepare_attached)
        token = self._requested_token(RUNNER_ACCOUNT)
        self.plane.bearer = token  # the runner's, for the wait; kept once it is over
        self._wait_answering(self.ready_timeout_s)  # what was applied stays: `down` removes it
        write_atomically(self._runner_token, token, mode=0o600)
        return self.status()

    def _wait_answering(self, timeout_s: float) -> None:
        """Until every Service and Prometheus answer at `base_url`, the way every later
        command reaches them. Every pod Ready is not enough: a node's kube-proxy
        programs a new Service's address on its own clock (a first request right after
        `up` timed out, on a busy machine), and an API server's Service proxy only
        forwards to the endpoints it has been told of."""
        deadline = time.monotonic() + timeout_s
        waiting = [spec.name for spec in (*self.services, PROMETHEUS)]
        why: dict[str, str] = {}
        while waiting:
            for name in list(waiting):
                url = self.base_url(name) + ANSWER_PATHS.get(name, "/readyz")
                wrong = _not_answering(url)
                if wrong is None:
                    waiting.remove(name)
                else:
                    why[name] = f"{name} ({url.removeprefix('http://')}): {wrong}"
            if waiting and time.monotonic() > deadline:
                raise ControlPlaneFailed(
                    f"every pod is Ready, but in {timeout_s:.0f} s these did not answer: "
                    + "; ".join(why[name] for name in sorted(waiting))
                )
            if waiting:
                time.sleep(0.5)

    def _prepare_attached(self) -> None:
        """Before the manifests, on a cluster attached to: the namespace; the control
        API's token (the Secret's when it has one already: the running pods read it
        when they started; a new one otherwise); no runner targets for its
        Prometheus to scrape (it cannot reach this machine: the load generator's
        metrics are pushed to it instead, `load_metrics_push_url`)."""
        plane = self.plane
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        plane.kubectl("apply", "-f", "-", input=json.dumps(namespace))
        path = f"/api/v1/namespaces/{NAMESPACE}/secrets/{CONTROL_SECRET}"
        try:
            found = plane.api("GET", path)
        except ControlPlaneFailed as exc:
            if "HTTP 404" not in str(exc):
                raise
            found = None
        given = self.environ.get(TOKEN_VARIABLE, "").strip()
        if found is not None:
            encoded = (found.get("data") or {}).get("token")
            if not encoded:
                raise InvalidStack(
                    f"the Secret {NAMESPACE}/{CONTROL_SECRET} has no key `token`: delete it, "
                    "or give it the control API's token"
                )
            token = base64.b64decode(encoded).decode().strip()
            if given and given != token:
                raise InvalidStack(
                    f"{TOKEN_VARIABLE} is not the token of the Secret {NAMESPACE}/"
                    f"{CONTROL_SECRET}, which the running pods use: unset it, or change the Secret"
                )
            write_atomically(self.paths.token_file, token + "\n", mode=0o600)
        else:
            token = ensure_token(self.paths, self.environ)
            secret = {  # on stdin: a token in kubectl's arguments is in every `ps`
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": CONTROL_SECRET, "namespace": NAMESPACE},
                "stringData": {"token": token},
            }
            plane.kubectl("create", "-f", "-", input=json.dumps(secret))
        targets = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": RUNNER_TARGETS, "namespace": NAMESPACE},
            "data": {"load.json": "[]", "monkey.json": "[]"},
        }
        plane.kubectl("apply", "-f", "-", input=json.dumps(targets))

    def _requested_token(self, account: str) -> str:
        """A token of a ServiceAccount of the namespace from the TokenRequest API, for
        TOKEN_LIFETIME_S (the API server may shorten it)."""
        path = f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/{account}/token"
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": TOKEN_LIFETIME_S},
        }
        return str(self.plane.api("POST", path, body)["status"]["token"])

    def _account_token(self, account: str) -> str:
        """The token of a ServiceAccount of the namespace, once its token controller
        has made it."""
        path = f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/{account}"
        deadline = time.monotonic() + 30
        while not (found := self.plane.api("GET", path).get("secrets")):
            if time.monotonic() > deadline:
                raise InvalidStack(f"the ServiceAccount {account} has no token after 30 s")
            time.sleep(0.2)
        secret = self.plane.api("GET", f"/api/v1/namespaces/{NAMESPACE}/secrets/{found[0]['name']}")
        return base64.b64decode(secret["data"]["token"]).decode()

    def _prepare(self, token: str) -> None:
        """Before the manifests: the namespace, the control token, the runner's targets."""
        plane = self.plane
        plane.kubectl("create", "namespace", NAMESPACE)
        plane.kubectl(
            "-n", NAMESPACE, "create", "secret", "generic", CONTROL_SECRET,
            f"--from-literal=token={token}",
        )  # fmt: skip
        layout = self.layout
        assert isinstance(layout, ClusterLayout)  # the one-machine cluster's
        host = layout.gateway
        targets = {
            "load.json": [{"targets": [f"{host}:{self.ports.load}"]}],
            "monkey.json": [{"targets": [f"{host}:{self.ports.monkey}"]}],
        }
        plane.kubectl(
            "-n", NAMESPACE, "create", "configmap", RUNNER_TARGETS,
            *(f"--from-literal={key}={json.dumps(value)}" for key, value in targets.items()),
        )  # fmt: skip

    def down(self) -> bool:
        self._close_proxy()
        if isinstance(self.cluster, AttachedCluster):
            return self._detach(self.cluster)
        found = bool(self._cluster_containers() or self.cluster.running())
        self.plane.bearer = None
        self._runner_token.unlink(missing_ok=True)
        self.cluster.down()
        self._addresses.clear()
        return found

    def _detach(self, cluster: AttachedCluster) -> bool:
        """What `up` applied, deleted, once nothing a killed run left on the nodes is
        there (a cut, a cordon: their helpers and the runner's rights go with the
        namespace, and `cleanup` could not remove them after); the records go only
        once it is gone. Nothing is skipped because the API did not answer."""
        if self.plane.bearer is not None:  # a failed `up` has no runner: nothing ran
            on_nodes = [mark for marks, _ in self._nodes.left_on_nodes() for mark in marks]
            if on_nodes:
                raise InvalidStack(
                    "a run left these on the cluster's nodes; `chaosbed cleanup` removes "
                    f"them, then `down`: {'; '.join(on_nodes)}"
                )
        self.plane.bearer = None
        found = bool(cluster.pods((*STACK_PARTS, RUNNER_PART)))
        cluster.down()
        self._runner_token.unlink(missing_ok=True)
        (self.paths.root / "cluster" / Attachment.FILE).unlink(missing_ok=True)
        return found

    def _close_proxy(self) -> None:
        if self._proxy is not None:
            self._proxy.close()
            self._proxy = None

    def _cluster_containers(self) -> list[str]:
        done = subprocess.run(
            ["docker", "ps", "-a", "--format", "{{.Names}}", "--filter",
             f"label={CLUSTER_LABEL}={self.layout.name}"],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
        return sorted(done.stdout.split())

    def status(self) -> list[ServiceStatus]:
        try:
            pods = self.cluster.pods() if self.cluster.running() else []
        except Exception:  # noqa: BLE001 - an API that does not answer: nothing is known running
            pods = []
        return [self._status(spec, pods) for spec in (*self.services, PROMETHEUS)]

    def _status(self, spec: ServiceSpec, pods: Sequence[dict[str, Any]]) -> ServiceStatus:
        of_service = [
            p for p in pods if p["metadata"].get("labels", {}).get(NAME_LABEL) == spec.name
        ]
        # a pod being deleted is out of its Service: named, not counted
        mine = [p for p in of_service if not p["metadata"].get("deletionTimestamp")]
        ready = ready_pods(mine)
        running = [p for p in mine if p.get("status", {}).get("phase") == "Running"]
        restarts = sum(
            c.get("restartCount", 0)
            for p in mine
            for c in p.get("status", {}).get("containerStatuses", [])
        )
        where = ", ".join(
            f"{p['metadata']['name']} on {p['spec'].get('nodeName') or 'no node'}"
            + (" (being deleted)" if p["metadata"].get("deletionTimestamp") else "")
            for p in sorted(of_service, key=lambda p: p["metadata"]["name"])
        )
        if not mine:
            state = "stopped"
        elif len(running) == len(mine):
            state = "running"
        else:
            state = "starting"
        return ServiceStatus(
            name=spec.name,
            port=spec.port,
            pid=None,
            state=state,
            healthy=bool(running),
            ready=bool(mine) and len(ready) == len(mine),
            restarts=restarts,
            detail=f"{len(ready)}/{len(mine)} pods ready" + (f": {where}" if where else ""),
        )

    # -- reaching the services ---------------------------------------------------

    def service_address(self, service: str) -> str:
        if service not in self._addresses:
            found = self.plane.api("GET", f"/api/v1/namespaces/{NAMESPACE}/services/{service}")
            self._addresses[service] = found["spec"]["clusterIP"]
        return self._addresses[service]

    def base_url(self, service: str) -> str:
        """The Service's address through this machine's route to it; on a cluster
        attached to, a loopback port of this process forwarding through the API
        server (service_proxy.py)."""
        spec = spec_named((*self.services, PROMETHEUS), service)  # UnknownService
        if isinstance(self.cluster, AttachedCluster):
            return self._service_proxy(self.cluster.plane).url(service)
        return f"http://{self.service_address(service)}:{spec.port}"

    def _service_proxy(self, api: ClusterApi) -> ServiceProxy:
        if api.bearer is None:  # never the kubeconfig's own identity (its certificate)
            raise NotRunning(
                "cluster",
                f"no runner token in {self._runner_token.parent}: its `up --kubeconfig` did not"
                " end; `down` removes what it applied",
            )
        with self._proxy_lock:
            if self._proxy is None:
                self._proxy = ServiceProxy(
                    api.server,
                    NAMESPACE,
                    {spec.name: spec.port for spec in (*self.services, PROMETHEUS)},
                    tls=api.ssl_context,
                    headers=api.auth_headers,
                )
            return self._proxy

    async def ready(self, service: str) -> bool:
        """Every pod of `service` Ready in the API (a Service answers while one of two
        does: a rollback must see each pod back), and the Service answers /readyz. A
        pod being deleted does not count: it is out of the Service already (a
        delete's rollback counts the pods running besides)."""
        spec = spec_named(self.services, service)

        def pods_ready() -> bool:
            mine = [  # a pod being deleted is out of its Service already, and going
                pod
                for pod in self.cluster.pods()
                if pod["metadata"].get("labels", {}).get(NAME_LABEL) == service
                and not pod["metadata"].get("deletionTimestamp")
            ]
            return bool(mine) and len(ready_pods(mine)) == len(mine)

        if not await asyncio.to_thread(pods_ready):
            return False
        if isinstance(self.cluster, AttachedCluster):
            url = await asyncio.to_thread(self.base_url, service)
            host, _, port = url.removeprefix("http://").rpartition(":")
            return (await asyncio.to_thread(probe, int(port), "/readyz", host=host)).ok
        address = await asyncio.to_thread(self.service_address, service)
        return (await asyncio.to_thread(probe, spec.port, "/readyz", host=address)).ok

    def prometheus_url(self) -> str | None:
        return self.base_url(PROMETHEUS.name)

    def load_metrics_host(self) -> str:
        """Where the cluster's Prometheus scrapes the load generator: this machine's
        address on the nodes' bridge; on a cluster attached to, nowhere (loopback:
        the metrics are pushed, `load_metrics_push_url`)."""
        if isinstance(self.layout, AttachedLayout):
            return "127.0.0.1"
        return self.layout.gateway

    def load_metrics_push_url(self) -> str | None:
        """On a cluster attached to, its Prometheus's remote-write receiver (through the
        API server), where the load generator pushes its metrics; None otherwise."""
        if not isinstance(self.cluster, AttachedCluster):
            return None
        return f"{self.base_url(PROMETHEUS.name)}/api/v1/write"

    def load_metrics_port(self) -> int:
        return self.ports.load

    async def expire_pause(
        self, instances: Sequence[str], after_s: float, owner: str
    ) -> Callable[[], Awaitable[None]] | None:
        return None

    async def delete(self, instance: str) -> InstanceState:
        return await self._pod_faults.delete(instance)

    async def deploy(self, instance: str, env: Mapping[str, str]) -> InstanceState:
        raise InstanceActionFailed(
            instance, "deploy", "a release on the cluster is a rollout, not one pod's environment"
        )


def _missing_images(images: Sequence[str]) -> list[str]:
    missing = []
    for image in images:
        done = subprocess.run(
            ["docker", "image", "inspect", image], capture_output=True, check=False, timeout=30
        )
        if done.returncode != 0:
            missing.append(image)
    return missing


def _time(stamp: object) -> float | None:
    """A Kubernetes timestamp (2026-12-05T19:00:00Z) as Unix time; None for none."""
    if not isinstance(stamp, str) or not stamp:
        return None
    return (
        datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
        .replace(tzinfo=datetime.UTC)
        .timestamp()
    )


def _container_id(status: Mapping[str, Any]) -> str:
    """A container status's id in its node's engine ("" before it has one)."""
    return str(status.get("containerID", "")).partition("://")[2]  # docker://, containerd://


def _service_container(pod: Mapping[str, Any]) -> dict[str, Any]:
    """The status of the pod's service container ({} before it has one)."""
    for container in pod.get("status", {}).get("containerStatuses", []):
        if container.get("name") == SERVICE_CONTAINER:
            return dict(container)
    return {}


def _expected(pods: Sequence[dict[str, Any]]) -> dict[str, set[str]]:
    """For each node, the uids of `pods` on it that must have a process there (their
    sandbox's at least): not being deleted, and a container the API says runs. A
    node agent that sees none of them does not see its node's processes."""
    expected: dict[str, set[str]] = {}
    for pod in pods:
        node = pod["spec"].get("nodeName")
        statuses = pod.get("status", {}).get("containerStatuses", [])
        runs = any("running" in status.get("state", {}) for status in statuses)
        if node and runs and not pod["metadata"].get("deletionTimestamp"):
            expected.setdefault(node, set()).add(pod["metadata"]["uid"])
    return expected


def _not_answering(url: str, timeout_s: float = 1.0) -> str | None:
    """None when a GET of `url` (http://host:port/path) answers 200; else what came
    instead, with the Service proxy's reason when it answered for the API server (its
    mark and message). No HTTP proxy of the environment is used."""
    address, _, path = url.removeprefix("http://").partition("/")
    host, _, port = address.rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout_s)
    try:
        connection.request("GET", f"/{path}", headers={"Connection": "close"})
        answer = connection.getresponse()
        body = answer.read(2048).decode(errors="replace")
    except (OSError, http.client.HTTPException) as error:
        return f"{type(error).__name__}: {error}".rstrip(": ")
    finally:
        connection.close()
    if answer.status == 200:
        return None
    mark = answer.getheader(PROXY_MARK)
    if mark is None:
        return f"HTTP {answer.status}"
    with contextlib.suppress(ValueError, KeyError, TypeError):
        body = json.loads(body)["error"]
    return f"HTTP {answer.status} ({PROXY_MARK}: {mark}): {body[:300]}"


def _reached_on(node: Node, pods: Sequence[dict[str, Any]]) -> list[str]:
    """What a cut from another node drops on `node`: its address and its pods' range;
    on a cluster that gives nodes no pod range (a CNI with addresses of its own), the
    addresses of the stack's pods on it now (a pod started there during the cut is
    not cut)."""
    found = [node.address] if node.address else []
    if node.pod_cidr:
        return [*found, node.pod_cidr]
    addresses = {
        pod["status"]["podIP"]
        for pod in pods
        if pod["spec"].get("nodeName") == node.name
        and pod.get("status", {}).get("podIP")
        and pod["status"]["podIP"] != node.address  # a pod on the node's network
    }
    return [*found, *sorted(addresses)]


def _container_ids(pods: Sequence[dict[str, Any]]) -> set[str]:
    """The ids of every container of `pods` that has one."""
    found = {
        _container_id(container)
        for pod in pods
        for container in pod.get("status", {}).get("containerStatuses", [])
    }
    return found - {""}


def pod_stopped(pod: dict[str, Any], with_processes: set[str]) -> bool:
    """Whether `pod` is being deleted and is over: each of its containers says it
    terminated or is waiting (this kubelet reports a container it has removed, or
    one never started, as waiting: its status need not have said terminated
    first), and no process on its node runs in its cgroup, its sandbox's
    included (the kubelet removes the sandbox when it stops the pod: a container
    waiting to start again in a running pod has one), whatever its status has
    caught up with."""
    containers = [c["name"] for c in pod["spec"].get("containers", [])]
    states = {
        c["name"]: c.get("state", {}) for c in pod.get("status", {}).get("containerStatuses", [])
    }

    def ended(name: str) -> bool:
        state = states.get(name, {})
        return "terminated" in state or "waiting" in state

    return (
        bool(pod["metadata"].get("deletionTimestamp"))
        and bool(containers)
        and all(ended(name) for name in containers)
        and pod["metadata"].get("uid") not in with_processes
    )


class PodInstances:
    """The process-layer faults on pods (see the module's docstring)."""

    def __init__(self, runtime: ClusterRuntime) -> None:
        self.runtime = runtime
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def _lock(self, instance: str) -> threading.Lock:
        """The lock a pause and an unpause of `instance` take: a pause still starting
        when its rollback comes (its step cancelled) finishes first, so that the
        unpause finds its helper."""
        with self._locks_lock:
            return self._locks.setdefault(instance, threading.Lock())

    def _pods(self, service: str | None) -> list[dict[str, Any]]:
        names = [spec.name for spec in self.runtime.services]
        if service is not None and service not in names:
            raise UnknownService(service, names)
        pods = [
            pod
            for pod in self.runtime.cluster.pods()
            if pod["metadata"].get("labels", {}).get(NAME_LABEL) in names
            and (service is None or pod["metadata"]["labels"][NAME_LABEL] == service)
        ]
        order = {name: index for index, name in enumerate(names)}
        return sorted(
            pods,
            key=lambda p: (order[p["metadata"]["labels"][NAME_LABEL]], p["metadata"]["name"]),
        )

    @property
    def _agents(self) -> NodeAgents:
        return NodeAgents(self.runtime.plane)

    def _read(self, pods: Sequence[dict[str, Any]]) -> NodesRead:
        """The service containers of `pods` that the API says run, from their nodes' agents."""
        wanted: dict[str, set[str]] = {}
        for pod in pods:
            container = _service_container(pod)
            node = pod["spec"].get("nodeName")
            if node and "running" in container.get("state", {}) and _container_id(container):
                wanted.setdefault(node, set()).add(_container_id(container))
        return self._agents.read(wanted, expected=_expected(pods))

    def _state(self, pod: dict[str, Any], read: NodesRead | None = None) -> InstanceState:
        """The pod's service container as the API says and its node's agent reads it
        (`read`: asked already for several pods, side by side)."""
        service = pod["metadata"]["labels"][NAME_LABEL]
        container = _service_container(pod)
        container_id = _container_id(container) or None
        restarts = int(container.get("restartCount", 0))
        node = pod["spec"].get("nodeName") or ""
        state: RunState = "stopped"
        detail = next(iter(container.get("state", {})), "pending")
        pid = None
        unread = None
        if "running" in container.get("state", {}) and container_id:
            if read is None:
                read = self._read([pod])
            found = read.containers.get(container_id)
            if found is not None and found.main is not None:
                state, pid = ("paused" if found.stopped else "running"), found.main
                detail = "paused (SIGSTOP)" if found.stopped else detail
            elif node in read.unread:  # as the API says; its process not known
                state, detail = "running", f"running, its process not read ({read.unread[node]})"
                unread = read.unread[node]
            else:  # ended before the API's status said so
                detail = "no process of its container runs (it ended)"
        # being deleted: out of its Service; the kubelet here lets go of the pod only
        # once it has removed its ended containers, on its next collection (once a
        # minute: up to about 40 s measured)
        going = bool(pod["metadata"].get("deletionTimestamp"))
        if going:
            detail = f"being deleted, {detail}"
        return InstanceState(
            service=service,
            instance=pod["metadata"]["name"],
            state=state,
            pid=pid,
            container_id=container_id,
            restarts=restarts,
            detail=f"{detail} on {node}" if node else detail,
            uid=pod["metadata"].get("uid"),
            going=going,
            unread=unread,
        )

    def _find(self, instance: str) -> tuple[dict[str, Any], InstanceState]:
        for pod in self._pods(None):
            if pod["metadata"]["name"] == instance:
                return pod, self._state(pod)
        raise InstanceActionFailed(instance, "find", "no such pod in the stack")

    async def snapshot(self, service: str | None = None) -> list[InstanceState]:
        def take() -> list[InstanceState]:
            pods = self._pods(service)
            read = self._read(pods)
            return [self._state(pod, read) for pod in pods]

        return await asyncio.to_thread(take)

    @property
    def _helpers(self) -> HelperPods:
        return HelperPods(self.runtime.plane, NODE_HELPERS)

    def _running(self, instance: str, action: str) -> tuple[dict[str, Any], InstanceState]:
        pod, state = self._find(instance)
        if state.container_id is None or state.state != "running" or state.unread:
            raise InstanceActionFailed(instance, action, f"its container is {state.detail}")
        return pod, state

    async def kill(self, instance: str) -> InstanceState:
        """SIGKILL to the container's main process, from a helper pod on its node."""

        def act() -> InstanceState:
            pod, state = self._running(instance, "kill")
            assert state.container_id is not None
            said = self._helpers.run(
                pod["spec"]["nodeName"], kill_script(state.container_id), "kill",
                where=instance, processes=True, hint=state.service,
            ).strip()  # fmt: skip
            if said != str(state.pid):  # another process than the one recorded (restarted)
                raise InstanceActionFailed(
                    instance, "kill", f"its helper ended pid {said}, not the recorded {state.pid}"
                )
            return state

        return await asyncio.to_thread(act)

    async def pause(self, instance: str) -> InstanceState:
        """Every process of the container stopped by a helper pod on its node, which
        holds the pause until its deletion (`unpause`) or PAUSE_HELD_S, and resumes
        them then, whatever becomes of the runner. Returns once the helper has seen
        each one stopped (it is Ready) and the node agent reads the container paused;
        InstanceActionFailed with the helper's reason if it fails."""

        def act() -> InstanceState:
            with self._lock(instance):  # an unpause waits for it: none acts after
                return self._pause(instance)

        return await asyncio.to_thread(act)

    def _pause(self, instance: str) -> InstanceState:
        pod, state = self._running(instance, "pause")
        assert state.container_id is not None
        name = f"chaosbed-pause-{secrets.token_hex(4)}"
        helpers = self._helpers
        helpers.hold(
            pod["spec"]["nodeName"], pause_script(state.container_id, PAUSE_HELD_S), name,
            ends_within_s=PAUSE_HELD_S, annotations={PAUSES: pod["metadata"]["uid"]},
            where=instance, what="pause", ready_when=PAUSED_MARK,
        )  # fmt: skip
        deadline = time.monotonic() + HELPER_TIMEOUT_S
        while True:
            found = helpers.get(name)
            phase = (found or {}).get("status", {}).get("phase")
            if found is None or phase in ("Succeeded", "Failed"):
                with contextlib.suppress(Exception):
                    helpers.delete(name, forget=True)
                why = failure(found, name) if found else f"its helper {name} is gone"
                raise InstanceActionFailed(instance, "pause", why)
            if ready(found):  # every process it stopped seen stopped, by the helper
                seen = self._find(instance)[1]
                if seen.state == "paused" and seen.container_id == state.container_id:
                    return state
            if time.monotonic() > deadline:
                helpers.delete(name, forget=True)  # resumes what it stopped
                raise InstanceActionFailed(
                    instance, "pause", f"not seen paused {HELPER_TIMEOUT_S:g}s after {name} ran"
                )
            time.sleep(0.1)

    async def unpause(self, instance: str) -> InstanceState:
        """The pod's pause helpers deleted (each resumes what it stopped before it
        ends), with those of pods no longer there; then, if the container is still
        seen paused (a helper gone without resuming it, SIGKILLed), a helper that
        resumes it. InstanceActionFailed when a helper of its had failed, or had
        ended its pause before it was asked to (its hold ran out)."""

        def act() -> InstanceState:
            with self._lock(instance):
                return self._unpause(instance)

        return await asyncio.to_thread(act)

    def _unpause(self, instance: str) -> InstanceState:
        pod, state = self._find(instance)
        helpers = self._helpers
        uid = pod["metadata"]["uid"]
        there = {p["metadata"].get("uid") for p in self.runtime.cluster.pods()}
        problems = []
        for helper in helpers.listed():
            pauses = helper["metadata"].get("annotations", {}).get(PAUSES)
            if pauses is None or (pauses != uid and pauses in there):
                continue  # not a pause's, or another pod's that is still there
            name = helper["metadata"]["name"]
            phase = helper.get("status", {}).get("phase")
            if pauses == uid and phase == "Failed":
                problems.append(f"its pause's {failure(helper, name)}")
            elif pauses == uid and phase == "Succeeded":
                problems.append(
                    f"its pause had ended before it was undone: {name} held it its "
                    f"{PAUSE_HELD_S:g}s"
                )
            try:
                helpers.delete(name, forget=True)
            except Exception as exc:  # noqa: BLE001 - the others still deleted, then said
                problems.append(f"{name} not removed: {exc}")
        pod, now = self._find(instance)
        if now.unread:  # its node's agent did not answer
            problems.append(f"not known whether it is still paused: {now.unread}")
        if now.state == "paused" and now.container_id:
            helpers.run(
                pod["spec"]["nodeName"], resume_script(now.container_id), "resume",
                where=instance, processes=True, hint=now.service,
            )  # fmt: skip
            if self._find(instance)[1].state == "paused":
                problems.append("it is still paused")
        if problems:
            raise InstanceActionFailed(instance, "unpause", "; ".join(problems))
        return state

    async def delete(self, instance: str) -> InstanceState:
        """The pod deleted through the API with its own grace period (the kubelet
        stops it as on a rollout: SIGTERM, then SIGKILL); its controller replaces it."""

        def act() -> InstanceState:
            pod, state = self._find(instance)
            if state.going:
                raise InstanceActionFailed(instance, "delete", "it is already being deleted")
            uid = pod["metadata"]["uid"]
            self.runtime.plane.api(
                "DELETE",
                f"/api/v1/namespaces/{NAMESPACE}/pods/{instance}",
                {"preconditions": {"uid": uid}},  # this pod, not a namesake made since
            )
            return state

        return await asyncio.to_thread(act)

    async def start(self, instance: str) -> InstanceState:
        """Nothing to do: no pod is kept down here (hold and stop are refused), and the
        kubelet starts a container that is not running again by itself."""

        def find() -> InstanceState:
            return self._find(instance)[1]

        return await asyncio.to_thread(find)

    async def _refuse(self, instance: str, action: str) -> InstanceState:
        raise InstanceActionFailed(
            instance,
            action,
            "not on the cluster runtime: the kubelet starts a stopped container again"
            " (kill and pause are what a pod's process can be made to do; delete, the pod)",
        )

    async def hold(self, instance: str) -> InstanceState:
        return await self._refuse(instance, "hold")

    async def stop(self, instance: str) -> InstanceState:
        return await self._refuse(instance, "stop")

    async def restart(self, instance: str) -> InstanceState:
        return await self._refuse(instance, "restart")


class ClusterNodeLayer:
    """The node containers as the machines of the cluster (the node faults)."""

    def __init__(self, runtime: ClusterRuntime) -> None:
        self.runtime = runtime

    @property
    def _helpers(self) -> HelperPods:
        return HelperPods(self.runtime.plane, NODE_HELPERS)

    @property
    def regions(self) -> tuple[str, ...]:
        return self.runtime.layout.regions

    def _node(self, region: str) -> Node:
        for node in self.runtime.layout.nodes:
            if node.region == region:
                return node
        raise InstanceActionFailed(region, "find", f"no node in region {region!r}")

    def _state(self, region: str) -> NodeState:
        """The node as the API says, its machine as its container's engine says, and its
        pods' processes as its node agent reads them (none when the machine is down:
        nothing of it runs; `unread` with why, when the machine is up and its agent
        does not answer)."""
        node = self._node(region)
        found = self.runtime.plane.api("GET", f"/api/v1/nodes/{node.name}")
        machine = self.runtime.machine_state(node.container, found)
        condition = ready_condition(found)
        ready = condition.get("status") == "True"
        heartbeat = _time(condition.get("lastHeartbeatTime"))
        pods = [
            pod
            for pod in self.runtime.cluster.pods()
            if pod["spec"].get("nodeName") == node.name
            and pod["metadata"].get("labels", {}).get(NAME_LABEL)
        ]
        pids = []
        starts = []
        unread = None
        try:
            here = self._read(node.name, machine, pods, containers=_container_ids(pods))
        except InstanceActionFailed as exc:
            here, unread = NodesRead(), exc.why
        stopped = [  # none known ended when nothing was read
            pod["metadata"]["name"] for pod in pods if not unread and pod_stopped(pod, here.pods)
        ]  # fmt: skip
        for pod in pods:
            for container in pod.get("status", {}).get("containerStatuses", []):
                processes = here.containers.get(_container_id(container))
                if processes is not None and processes.main is not None:
                    pids.append(processes.main)
                started = _time(container.get("state", {}).get("running", {}).get("startedAt"))
                starts.append(started)
        known = [started for started in starts if started is not None]
        return NodeState(
            name=node.name,
            region=region,
            running=machine == "running",
            ready=ready,
            pods=tuple(sorted(pod["metadata"]["name"] for pod in pods)),
            pids=tuple(sorted(pids)),
            heartbeat=heartbeat,
            oldest_start=min(known) if known and len(known) == len(starts) else None,
            schedulable=not found.get("spec", {}).get("unschedulable", False),
            drained=DRAINED in (found["metadata"].get("annotations") or {}),
            stopped=tuple(sorted(stopped)),
            unread=unread,
        )

    def _read(
        self,
        name: str,
        machine: str,
        pods: Sequence[dict[str, Any]],
        containers: AbstractSet[str] = frozenset(),
        pids: AbstractSet[int] = frozenset(),
    ) -> NodesRead:
        """What the node agent on node `name` reads of `containers` and `pids`, checked
        against `pods` (those on it); nothing when its `machine` has ended or is gone
        (every process of it ended with it). InstanceActionFailed when not read."""
        if machine in MACHINE_DOWN:
            return NodesRead(running={name: {}})
        read = NodeAgents(self.runtime.plane).read(
            {name: set(containers)}, {name: set(pids)}, expected=_expected(pods)
        )
        if name in read.unread:
            raise InstanceActionFailed(name, "read", f"its processes not read: {read.unread[name]}")
        return read

    def _machines(self) -> ClusterNodes:
        """The node containers (node_stop); refused on a cluster attached to."""
        cluster = self.runtime.cluster
        if isinstance(cluster, AttachedCluster):
            raise InstanceActionFailed("node", "stop", NODE_STOP_ATTACHED)
        return cluster.nodes

    async def node(self, region: str) -> NodeState:
        return await asyncio.to_thread(self._state, region)

    async def processes(self, region: str, pids: set[int]) -> dict[int, str]:
        def read() -> dict[int, str]:
            node = self._node(region)
            machine = self.runtime.machine_state(node.container)
            pods = [
                p for p in self.runtime.cluster.pods() if p["spec"].get("nodeName") == node.name
            ]
            return self._read(node.name, machine, pods, pids=pids).running.get(node.name, {})

        return await asyncio.to_thread(read)

    async def stop(self, region: str) -> NodeState:
        def stop() -> NodeState:
            before = self._state(region)
            # SIGKILL to the node's first process: every process in it goes at once
            self._machines().docker("kill", self._node(region).container)
            return before

        return await asyncio.to_thread(stop)

    async def start(self, region: str) -> NodeState:
        def start() -> NodeState:
            before = self._state(region)
            if not before.running:
                self._machines().docker("start", self._node(region).container)
            return before

        return await asyncio.to_thread(start)

    async def drain(self, region: str) -> NodeState:
        def drain() -> NodeState:
            name = self._node(region).name
            plane = self.runtime.plane
            marked = {
                "metadata": {"annotations": {DRAINED: f"{time.time():.0f}"}},
                "spec": {"unschedulable": True},
            }
            plane.api("PATCH", f"/api/v1/nodes/{name}", marked, patch=True)
            cordoned = self._state(region)  # once nothing new lands on it: the pods to evict
            # the Eviction API: the pods' grace period, then gone (one deleted before
            # is ending already: nothing left to evict)
            for pod in cordoned.live_pods:
                eviction = {
                    "apiVersion": "policy/v1beta1",
                    "kind": "Eviction",
                    "metadata": {"name": pod, "namespace": NAMESPACE},
                }
                try:
                    plane.api("POST", f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}/eviction",
                              eviction)  # fmt: skip
                except ControlPlaneFailed as exc:
                    if "HTTP 404" not in str(exc):  # one already gone is evicted
                        raise InstanceActionFailed(pod, "evict", str(exc)) from exc
            return cordoned

        return await asyncio.to_thread(drain)

    async def uncordon(self, region: str) -> None:
        await asyncio.to_thread(self._uncordon, self._node(region).name)

    def _uncordon(self, name: str) -> None:
        unmarked = {"metadata": {"annotations": {DRAINED: None}}, "spec": {"unschedulable": None}}
        self.runtime.plane.api("PATCH", f"/api/v1/nodes/{name}", unmarked, patch=True)

    async def settled(self) -> bool:
        def settled() -> bool:
            cluster = self.runtime.cluster
            ready = cluster.ready_nodes()
            if any(node.name not in ready for node in self.runtime.layout.nodes):
                return False
            pods = cluster.pods((*STACK_PARTS, RUNNER_PART))  # the node agents too
            return bool(pods) and len(ready_pods(pods)) == len(pods)

        return await asyncio.to_thread(settled)

    # -- cuts between nodes, from helper pods ------------------------------------------

    def _cut_script(self, region: str, chain: str) -> str:
        """iptables in the node's network namespace: its traffic to and from the other
        nodes and their pods dropped (FORWARD: its pods'; INPUT/OUTPUT: its own),
        the stack's scraper excepted."""
        me = self._node(region)
        pods = self.runtime.cluster.pods()
        scraper = [
            pod["status"]["podIP"]
            for pod in pods
            if pod["metadata"]["labels"].get(NAME_LABEL) == PROMETHEUS.name
            and pod.get("status", {}).get("podIP")
        ]
        rules = [f"iptables -w -N {chain}"]
        rules += [f"iptables -w -A {chain} -{d} {ip} -j RETURN" for ip in scraper for d in "sd"]
        for other in self.runtime.layout.nodes:
            if other == me:
                continue
            for where in _reached_on(other, pods):
                rules += [f"iptables -w -A {chain} -{d} {where} -j DROP" for d in "sd"]
        rules += [f"iptables -w -I {hook} 1 -j {chain}" for hook in CUT_HOOKS]
        return "set -e\n" + "\n".join(rules) + f"\niptables -w -S {chain} | wc -l\n"

    async def cut(self, region: str, chain: str) -> None:
        script = await asyncio.to_thread(self._cut_script, region, chain)
        await asyncio.to_thread(self._helper, region, script, "cut")

    async def uncut(self, region: str, chain: str) -> None:
        await asyncio.to_thread(self._helper, region, _uncut_script(chain), "uncut")

    async def reaches(self, region: str, peer: str) -> bool:
        def probe() -> bool:
            target = self._node(peer)
            on_target = [
                pod
                for pod in self.runtime.cluster.pods()
                if pod["spec"].get("nodeName") == target.name
                and pod.get("status", {}).get("podIP")
                and pod["metadata"]["labels"].get(NAME_LABEL) in self._ports()
            ]
            ready = set(ready_pods(on_target))
            pods = [pod for pod in on_target if pod["metadata"]["name"] in ready]
            if not pods:
                raise InstanceActionFailed(
                    target.name, "probe", "no Ready pod of the stack runs there"
                )
            pod = sorted(pods, key=lambda p: p["metadata"]["name"])[0]
            port = self._ports()[pod["metadata"]["labels"][NAME_LABEL]]
            url = f"http://{pod['status']['podIP']}:{port}/healthz"
            answer = self._helper(region, PROBE.format(url=url, timeout=PROBE_TIMEOUT_S), "probe")
            if answer.strip() == "200":
                return True
            if answer.startswith("unreachable"):  # no connection, or none in time
                return False
            raise InstanceActionFailed(target.name, "probe", f"{url} answered {answer.strip()!r}")

        return await asyncio.to_thread(probe)

    def _ports(self) -> dict[str, int]:
        return {spec.name: spec.port for spec in self.runtime.services}

    def _helper_pods(self) -> list[dict[str, Any]]:
        return self._helpers.listed()

    async def leftovers(self) -> list[str]:
        return await asyncio.to_thread(self.find_leftovers)

    def find_leftovers(self) -> list[str]:
        """`leftovers`, from a thread (or no event loop)."""
        found = [
            f"helper pod {pod['metadata']['name']} on {pod['spec'].get('nodeName')}"
            for pod in self._helper_pods()
        ]
        for marks, down in self.left_on_nodes():
            found += marks + down
        return found

    def left_on_nodes(self) -> list[tuple[list[str], list[str]]]:
        """For each node: what a run left on it (a drain's cordon, its cuts), and
        whether it is down (its cuts then not looked for)."""

        def look(region: str) -> tuple[list[str], list[str]]:  # side by side: a helper each
            node = self._state(region)
            marks = []
            if node.drained:  # a cordon of someone else's is not ours to undo
                marks.append(f"node {node.name} ({region}) is cordoned by a drain")
            if not node.running:
                return marks, [f"node {node.name} ({region}) is down"]
            for chain in self._helper(region, LIST_CUTS, "list").split():
                marks.append(f"node {node.name} ({region}): the cut {chain}")
            return marks, []

        with concurrent.futures.ThreadPoolExecutor(len(self.regions)) as pool:
            return list(pool.map(look, self.regions))

    async def remove_leftovers(self) -> list[str]:
        def remove() -> list[str]:
            removed = []
            plane = self.runtime.plane
            for pod in self._helper_pods():
                name = pod["metadata"]["name"]
                plane.api(
                    "DELETE",
                    f"/api/v1/namespaces/{NAMESPACE}/pods/{name}",
                    {"gracePeriodSeconds": 0},
                )
                removed.append(f"helper pod {name} on {pod['spec'].get('nodeName')}")
            # gone before the cuts are listed: a cut helper still running could add one after
            deadline = time.monotonic() + HELPER_TIMEOUT_S
            while self._helper_pods():
                if time.monotonic() > deadline:
                    raise InstanceActionFailed(
                        "helper pods", "delete", "still there after a minute"
                    )
                time.sleep(0.2)
            for region in self.regions:
                node = self._node(region)
                state = self._state(region)
                if state.drained:
                    self._uncordon(node.name)
                    removed.append(f"node {node.name} ({region}): uncordoned")
                if not state.running:
                    continue
                chains = self._helper(region, LIST_CUTS, "list").split()
                for chain in chains:
                    self._helper(region, _uncut_script(chain), "uncut")
                    removed.append(f"node {node.name} ({region}): the cut {chain}")
            return removed

        return await asyncio.to_thread(remove)

    def _helper(self, region: str, script: str, what: str) -> str:
        """Run `script` in a short-lived helper pod on the node of `region`, in the node's
        network namespace (helper_pods.py); its output. InstanceActionFailed, with the
        output, when it fails."""
        node = self._node(region)
        return self._helpers.run(node.name, node_command(script), what, hint=region)


def _uncut_script(chain: str) -> str:
    """The chain's jumps, its rules and the chain gone; fails if any trace is left."""
    lines = [
        f"while iptables -w -D {hook} -j {chain} 2>/dev/null; do :; done" for hook in CUT_HOOKS
    ]
    lines += [
        f"iptables -w -F {chain} 2>/dev/null || true",
        f"iptables -w -X {chain} 2>/dev/null || true",
        f"! iptables -w -S | grep -q -- '{chain}'",
    ]
    return "\n".join(lines) + "\n"
