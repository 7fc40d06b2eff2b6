"""A Kubernetes control plane on this machine: etcd, the API server, the
controller manager and the scheduler, as local processes on loopback ports.

The binaries are those cluster/kubernetes/build.sh builds (Kubernetes 1.20
from Debian's source; `etcd` from Debian's etcd-server). Everything listens on
127.0.0.1 only. The API server serves TLS with a certificate it makes itself
(`certificate`, the clients' CA); the administrator (group system:masters)
is a bearer token made for each control plane, and the controller manager,
the scheduler, kubectl and `api` use it (`kubeconfig`). The service
accounts' signing key is made for each control plane too. The state is in
`work_dir` (etcd's data, the key, the token, the logs), removed by `stop`
unless `keep` is set.

    with ControlPlane(bin_dir, work_dir, ports) as plane:
        plane.kubectl("apply", "-f", "cluster/kubernetes/chaosbed.yaml")
        plane.api("GET", "/api/v1/namespaces/chaosbed/pods")

It validates what it is given as a cluster does (server-side), schedules
pods onto the nodes registered with it and runs the controllers that turn a
Deployment or a StatefulSet into pods and bind claims to volumes; the pods
run only where a kubelet does.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, cast

from chaos.runtime.errors import RuntimeFailure

__all__ = [
    "BINARIES",
    "DEFAULT_BIN",
    "ControlPlane",
    "ControlPlaneFailed",
    "ControlPlanePorts",
    "kubernetes_bin",
]

#: Where cluster/kubernetes/build.sh puts the binaries unless told otherwise.
DEFAULT_BIN = Path.home() / ".cache" / "chaosbed" / "kubernetes" / "v1.20.2" / "bin"
BIN_VARIABLE = "CHAOSBED_KUBERNETES_BIN"
BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
SERVICE_CIDR = "10.96.0.0/24"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def _runs(pid: int, binary: str) -> bool:
    """Does `pid` run `binary` (and not some later process that got its pid)?"""
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
    except OSError:
        return False
    return argv0.decode(errors="replace") == binary


def _stop_pid(pid: int, binary: str) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; returns once it is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _runs(pid, binary) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _runs(pid, binary):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _runs(pid, binary):
            if time.monotonic() > deadline:
                raise ControlPlaneFailed(f"{binary} (pid {pid}) survived SIGKILL")
            time.sleep(0.05)


class KubernetesApi(Protocol):
    """A cluster's API as one identity: the control plane's (ControlPlane), or a
    cluster's a kubeconfig reaches (kubeconfig.ClusterApi)."""

    bearer: str | None

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        patch: bool = False,
        raw: bool = False,
        timeout: float = 10,
    ) -> Any: ...


class ControlPlaneFailed(RuntimeFailure):
    """A binary is missing, or a component exited or never became ready."""


def api_request(
    server: str,
    method: str,
    path: str,
    headers: Mapping[str, str],
    context: ssl.SSLContext,
    *,
    body: Any = None,
    patch: bool = False,
    raw: bool = False,
    timeout: float = 10,
) -> Any:
    """One request to the Kubernetes API at `server` with `headers` (who asks); the
    answer's JSON (its text when `raw`), a merge patch when `patch`.
    ControlPlaneFailed with the status and the answer on an HTTP error; urllib's own
    error when no answer came."""
    data = None if body is None else json.dumps(body).encode()
    sent = {
        "Content-Type": "application/merge-patch+json" if patch else "application/json",
        **headers,
    }
    request = urllib.request.Request(server + path, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
            text = answer.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:500]
        raise ControlPlaneFailed(f"{method} {path}: HTTP {error.code}: {detail}") from None
    return text.decode() if raw else json.loads(text or b"null")


def kubernetes_bin() -> Path:
    """The directory of the Kubernetes binaries: $CHAOSBED_KUBERNETES_BIN or DEFAULT_BIN."""
    configured = os.environ.get(BIN_VARIABLE, "").strip()
    return Path(configured) if configured else DEFAULT_BIN


@dataclass(frozen=True)
class ControlPlanePorts:
    """Loopback ports: etcd's clients and peers, the API server."""

    etcd: int
    etcd_peer: int
    api: int


def advertise_address() -> str:
    """This machine's address towards the rest of the network (written into the
    `kubernetes` Service's endpoints; a loopback address is refused there). No
    packet is sent: a UDP socket's connect only picks the route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a route, never a reply
            address: str = probe.getsockname()[0]
        except OSError:
            return "192.0.2.1"
    return "192.0.2.1" if address.startswith("127.") else address


@dataclass
class ControlPlane:
    bin_dir: Path
    work_dir: Path
    ports: ControlPlanePorts
    controllers: str = "*,-nodeipam"
    """The controller manager's `--controllers` (without the node lifecycle
    controller, nodes registered by hand keep the state they were given)."""
    keep: bool = False
    bind_address: str = "127.0.0.1"
    """Where the API server listens (and, unless on loopback, the address it
    advertises): a bridge's address for kubelets in containers to reach it."""
    users: tuple[tuple[str, str], ...] = ()
    """Further users with a token each, (name, group): the kubelets
    (`system:node:<node>`, `system:nodes`), kube-proxy (`system:kube-proxy`)."""
    extra_flags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """More flags for a component, by its binary's name."""
    bearer: str | None = None
    """The token `api` sends when set (an identity with fewer rights than the
    administrator's, such as the runner's ServiceAccount); the administrator's
    otherwise. `kubectl` is always the administrator."""
    _processes: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = field(default_factory=list)

    @property
    def server(self) -> str:
        return f"https://{self.bind_address}:{self.ports.api}"

    @property
    def certificate(self) -> Path:
        """The API server's self-made certificate, with the CA that signed it."""
        return self.work_dir / "certificates" / "apiserver.crt"

    @property
    def kubeconfig(self) -> Path:
        return self.work_dir / "admin.kubeconfig"

    def _token(self) -> str:
        return self.token("admin")

    def token(self, user: str) -> str:
        """The bearer token of `user` (admin, or one of `users`)."""
        for line in (self.work_dir / "tokens.csv").read_text().splitlines():
            token, name, *_ = line.split(",")
            if name == user:
                return token
        raise KeyError(user)

    def write_kubeconfig(self, path: Path, user: str, certificate: str | None = None) -> None:
        """A kubeconfig for `user` with its token; `certificate` is the CA's path as the
        reader sees it (default: this machine's path)."""
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "chaosbed",
                            "cluster": {
                                "server": self.server,
                                "certificate-authority": certificate or str(self.certificate),
                            },
                        }
                    ],
                    "users": [{"name": user, "user": {"token": self.token(user)}}],
                    "contexts": [
                        {"name": "chaosbed", "context": {"cluster": "chaosbed", "user": user}}
                    ],
                    "current-context": "chaosbed",
                },
                indent=2,
            )
        )

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # -- starting and stopping

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """etcd, then the API server (until ready), the controller manager and the scheduler."""
        etcd = shutil.which("etcd")
        missing = [b for b in BINARIES if not (self.bin_dir / b).is_file()]
        if etcd is None or missing:
            names = ", ".join([*missing, *([] if etcd else ["etcd"])])
            raise ControlPlaneFailed(
                f"Kubernetes binaries missing ({names}) in {self.bin_dir}: build them with"
                f" `bash cluster/kubernetes/build.sh` (as root; {BIN_VARIABLE} says where)"
            )
        deadline = time.monotonic() + timeout_s
        self.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_etcd(etcd, deadline)
            self._start_api_server(deadline)
            self._start_controllers()
        except BaseException:
            self.stop()
            raise

    @property
    def pid_file(self) -> Path:
        """The components' pids, for a later process to stop them (`stop`)."""
        return self.work_dir / "pids.json"

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = (self.work_dir / f"{name}.log").open("wb")
        # a session of its own: a Ctrl-C at the terminal that started it does not reach it
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._processes.append((name, process, log))
        self.pid_file.write_text(
            json.dumps(
                [[n, p.pid, cast(list[str], p.args)[0]] for n, p, _ in self._processes], indent=2
            )
        )

    def _wait(self, name: str, ready: str, deadline: float) -> None:
        """Until `ready` (a URL) answers 200, or `name` exits, or the deadline."""
        process = next(p for n, p, _ in self._processes if n == name)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ControlPlaneFailed(
                    f"{name} exited with {process.returncode} while starting: {self._tail(name)}"
                )
            with contextlib.suppress(OSError, ValueError, ControlPlaneFailed):
                if ready.startswith("https:"):
                    self.api("GET", ready.removeprefix(self.server), raw=True)
                    return
                with urllib.request.urlopen(ready, timeout=2) as answer:
                    if answer.status == 200:
                        return
            time.sleep(0.2)
        raise ControlPlaneFailed(f"{name} was not ready in time: {self._tail(name)}")

    def _tail(self, name: str, lines: int = 5) -> str:
        path = self.work_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"

    def _start_etcd(self, etcd: str, deadline: float) -> None:
        client = f"http://127.0.0.1:{self.ports.etcd}"
        peer = f"http://127.0.0.1:{self.ports.etcd_peer}"
        self._spawn(
            "etcd",
            [
                etcd,
                "--name=chaosbed",
                f"--data-dir={self.work_dir / 'etcd'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=chaosbed={peer}",
                "--log-level=warn",
            ],
        )
        self._wait("etcd", f"{client}/health", deadline)

    def _start_api_server(self, deadline: float) -> None:
        key = self.work_dir / "service-accounts.key"
        if not key.exists():
            subprocess.run(
                ["openssl", "genrsa", "-out", str(key), "2048"],
                check=True,
                capture_output=True,
            )
        tokens = self.work_dir / "tokens.csv"
        users = [("admin", "system:masters"), *self.users]
        tokens.write_text(
            "".join(f'{secrets.token_hex(16)},{name},{name},"{group}"\n' for name, group in users)
        )
        tokens.chmod(0o600)
        advertise = (
            advertise_address() if self.bind_address.startswith("127.") else self.bind_address
        )
        self._spawn(
            "kube-apiserver",
            [
                str(self.bin_dir / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.ports.etcd}",
                f"--bind-address={self.bind_address}",
                f"--secure-port={self.ports.api}",
                f"--cert-dir={self.work_dir / 'certificates'}",
                f"--advertise-address={advertise}",
                f"--token-auth-file={tokens}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--service-account-key-file={key}",
                f"--service-account-signing-key-file={key}",
                "--service-account-issuer=https://kubernetes.default.svc",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                *self.extra_flags.get("kube-apiserver", ()),
            ],
        )
        self._wait("kube-apiserver", f"{self.server}/readyz", deadline)
        self.write_kubeconfig(self.kubeconfig, "admin")

    def _start_controllers(self) -> None:
        key = self.work_dir / "service-accounts.key"
        self._spawn(
            "kube-controller-manager",
            [
                str(self.bin_dir / "kube-controller-manager"),
                f"--kubeconfig={self.kubeconfig}",
                "--port=0",
                "--secure-port=0",
                "--leader-elect=false",
                f"--controllers={self.controllers}",
                f"--service-account-private-key-file={key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--root-ca-file={self.certificate}",
                *self.extra_flags.get("kube-controller-manager", ()),
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                str(self.bin_dir / "kube-scheduler"),
                f"--kubeconfig={self.kubeconfig}",
                "--port=0",
                "--secure-port=0",
                "--leader-elect=false",
            ],
        )

    def stop(self) -> None:
        """Every component, the last started first: SIGTERM, then SIGKILL. Those this
        object did not start are found in `pid_file` (a control plane started by an
        earlier process), each only while its pid still runs its binary."""
        if not self._processes:
            for _, pid, binary in reversed(self._recorded()):
                _stop_pid(pid, binary)
        while self._processes:
            name, process, log = self._processes.pop()
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()
        if not self.keep:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def running(self) -> list[str]:
        """The components still running (started by this object, or recorded)."""
        if self._processes:
            return [name for name, process, _ in self._processes if process.poll() is None]
        return [name for name, _, _ in self._recorded()]

    def _recorded(self) -> list[tuple[str, int, str]]:
        """(name, pid, binary) of each recorded component whose pid still runs its binary."""
        try:
            records = json.loads(self.pid_file.read_text())
        except (OSError, ValueError):
            return []
        return [(name, pid, binary) for name, pid, binary in records if _runs(pid, binary)]

    # -- talking to it

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`kubectl ARGS` as the administrator (`input` on its stdin); ControlPlaneFailed
        with its output when it fails and `check`."""
        argv = [str(self.bin_dir / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args]
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, check=False, input=input
        )
        if check and done.returncode != 0:
            raise ControlPlaneFailed(
                f"kubectl {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}"
            )
        return done

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        patch: bool = False,
        raw: bool = False,
        timeout: float = 10,
    ) -> Any:
        """One request to the API as `bearer`, or the administrator; the answer's JSON
        (its text when `raw`). A merge patch when `patch`."""
        return api_request(
            self.server,
            method,
            path,
            {"Authorization": f"Bearer {self.bearer or self._token()}"},
            ssl.create_default_context(cafile=str(self.certificate)),
            body=body,
            patch=patch,
            raw=raw,
            timeout=timeout,
        )
