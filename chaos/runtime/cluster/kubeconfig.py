"""A cluster a team already has, reached as a kubeconfig file says: `ClusterApi`, with
ControlPlane's surface (`server`, `bearer`, `api`, `kubectl`) for the code that talks
to a cluster, and `ssl_context` and `auth_headers` for an aiohttp client.

    cluster = ClusterApi.from_kubeconfig(Path("~/.kube/config").expanduser())
    cluster.api("GET", "/api/v1/namespaces/chaosbed/pods")
    cluster.kubectl("apply", "-f", "cluster/kubernetes/chaosbed.yaml")

It reads what kubectl reads for one context (given, or the file's current-context):
its cluster's `server`, `certificate-authority` or `certificate-authority-data`,
`insecure-skip-tls-verify` and `tls-server-name`; its user's `token` or `tokenFile`,
`username` and `password`, `client-certificate` and `client-key` (or their `-data`).
Relative paths are taken from the kubeconfig's directory, as kubectl does. Users that
authenticate through a plugin (`exec`, `auth-provider`) are refused: chaosbed runs no
plugin.

A client certificate given inline is never written to disk: the ssl module loads a
certificate chain from files only, so it reads the PEM from a memory file (Linux's
memfd_create, through /proc/self/fd), closed as soon as the context holds it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import yaml

from chaos.runtime.cluster.control_plane import (
    BIN_VARIABLE,
    ControlPlaneFailed,
    api_request,
    kubernetes_bin,
)
from chaos.runtime.errors import InvalidStack

__all__ = ["ClusterApi", "KubeconfigError"]

#: Inline PEM (a `-data` field, decoded) or the file holding it.
Pem: TypeAlias = Path | bytes

PLUGIN_ADVICE = (
    "chaosbed runs no credential plugin: give it a kubeconfig whose user has a token "
    "(a ServiceAccount's, from `kubectl create token NAME`) or a client certificate"
)


class KubeconfigError(InvalidStack):
    """The kubeconfig file is missing, unreadable, or cannot be used as it is."""


class _TlsContext(ssl.SSLContext):
    """A client context that checks the server's certificate against `server_name`
    (kubeconfig's tls-server-name), whatever host it was reached at, for urllib
    (`wrap_socket`) and asyncio (`wrap_bio`) alike."""

    server_name: str | None = None

    def wrap_socket(
        self,
        sock: socket.socket,
        server_side: bool = False,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLSocket:
        return super().wrap_socket(
            sock,
            server_side,
            do_handshake_on_connect,
            suppress_ragged_eofs,
            self.server_name or server_hostname,
            session,
        )

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        return super().wrap_bio(
            incoming, outgoing, server_side, self.server_name or server_hostname, session
        )


@dataclass
class ClusterApi:
    kubeconfig: Path
    context: str
    """The context used (the one given, or the file's current-context when read);
    kubectl is given it too."""
    server: str
    certificate_authority: Pem | None = None
    """What the server's certificate must chain to; the system's CAs when None."""
    insecure: bool = False
    """insecure-skip-tls-verify: the server's certificate is not checked at all."""
    tls_server_name: str | None = None
    token: str | None = field(default=None, repr=False)
    token_file: Path | None = None
    """Read at each request (a projected ServiceAccount token rotates)."""
    basic: tuple[str, str] | None = field(default=None, repr=False)
    client_certificate: Pem | None = field(default=None, repr=False)
    client_key: Pem | None = field(default=None, repr=False)
    bearer: str | None = field(default=None, repr=False)
    """The token sent when set, as the only identity: the kubeconfig user's token,
    password and client certificate are then left out (the API server would take
    the certificate's user first). `kubectl` is always the kubeconfig's user."""

    @classmethod
    def from_kubeconfig(cls, path: Path, context: str | None = None) -> ClusterApi:
        """The cluster and user of `context` (else the current-context) in `path`, a
        YAML or JSON kubeconfig; KubeconfigError naming the file and what is wrong,
        including a file it refers to that cannot be read."""
        config = _read(path)
        name = context or _text(config, "current-context", path)
        if not name:
            raise KubeconfigError(f"{path}: no current-context; name the context to use")
        entry = _named(config, "context", name, path, f"context {name!r}")
        cluster_name = _text(entry, "cluster", path)
        if not cluster_name:
            raise KubeconfigError(f"{path}: context {name!r} names no cluster")
        where = f"cluster {cluster_name!r} (of context {name!r})"
        cluster = _named(config, "cluster", cluster_name, path, where)
        server = _text(cluster, "server", path).rstrip("/")
        if not server.startswith(("https://", "http://")):
            raise KubeconfigError(
                f"{path}: {where} has no server URL (https://HOST:PORT)"
                + (f", only {server!r}" if server else "")
            )
        user_name = _text(entry, "user", path)
        where = f"user {user_name!r} (of context {name!r})"
        user = _named(config, "user", user_name, path, where) if user_name else {}
        for plugin in ("exec", "auth-provider"):
            if user.get(plugin):
                raise KubeconfigError(
                    f"{path}: {where} authenticates with {plugin}; {PLUGIN_ADVICE}"
                )
        insecure = cluster.get("insecure-skip-tls-verify") is True
        authority = _pem(cluster, "certificate-authority", path)
        if insecure and authority is not None:
            raise KubeconfigError(
                f"{path}: cluster {cluster_name!r} has both a certificate authority and "
                "insecure-skip-tls-verify; kubectl refuses that too"
            )
        token = _text(user, "token", path) or None
        token_file = _text(user, "tokenFile", path)
        username, password = _text(user, "username", path), _text(user, "password", path)
        if (token or token_file) and username:
            raise KubeconfigError(f"{path}: {where} has both a token and a username; keep one")
        certificate = _pem(user, "client-certificate", path)
        key = _pem(user, "client-key", path)
        if (certificate is None) != (key is None):
            raise KubeconfigError(
                f"{path}: {where} has a client certificate without its key, or the reverse"
            )
        api = cls(
            kubeconfig=path,
            context=name,
            server=server,
            certificate_authority=authority,
            insecure=insecure,
            tls_server_name=_text(cluster, "tls-server-name", path) or None,
            token=token,
            token_file=path.parent / token_file if token_file else None,
            basic=(username, password) if username else None,
            client_certificate=certificate,
            client_key=key,
        )
        api.ssl_context()  # a file it names that cannot be read is named now
        api.auth_headers()
        return api

    # -- the identity

    def ssl_context(self) -> ssl.SSLContext:
        """How to reach `server`: its CA, tls-server-name, and the kubeconfig user's
        client certificate unless `bearer` is set. KubeconfigError when a file of
        them cannot be read."""
        context = _TlsContext(ssl.PROTOCOL_TLS_CLIENT)
        context.server_name = self.tls_server_name
        authority = self.certificate_authority
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif isinstance(authority, Path):
            with self._loading(_source("certificate-authority", authority)):
                context.load_verify_locations(cafile=authority)
        elif authority is not None:
            with self._loading(_source("certificate-authority", authority)):
                context.load_verify_locations(cadata=authority.decode())  # text: bytes are DER
        else:
            context.load_default_certs()
        certificate, key = self.client_certificate, self.client_key
        if not self.bearer and certificate is not None and key is not None:
            pair = f"{_source('client-certificate', certificate)} and {_source('client-key', key)}"
            with self._loading(pair):
                _load_chain(context, certificate, key)
        return context

    @contextlib.contextmanager
    def _loading(self, what: str) -> Iterator[None]:
        try:
            yield
        except (OSError, ValueError) as error:
            raise KubeconfigError(
                f"{self.kubeconfig}: the {what} of context {self.context!r} cannot be loaded: "
                f"{error}"
            ) from None

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header of `bearer`, else of the kubeconfig user's token
        (or token file) or password; none for a client certificate or no user."""
        if self.bearer:
            return {"Authorization": f"Bearer {self.bearer}"}
        token = self.token
        if token is None and self.token_file is not None:
            try:
                token = self.token_file.read_text().strip()
            except (OSError, ValueError) as error:
                raise KubeconfigError(
                    f"{self.kubeconfig}: the tokenFile of context {self.context!r} "
                    f"cannot be read: {error}"
                ) from None
        if token:
            return {"Authorization": f"Bearer {token}"}
        if self.basic is not None:
            pair = base64.b64encode(":".join(self.basic).encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        return {}

    # -- talking to it

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        patch: bool = False,
        raw: bool = False,
        timeout: float = 10,
    ) -> Any:
        """One request to the API as `bearer`, or the kubeconfig's user; the answer's
        JSON (its text when `raw`). A merge patch when `patch`. ControlPlaneFailed with
        the status and the answer on an HTTP error, with the server and the reason
        when no answer came (refused, TLS, timeout)."""
        try:
            return api_request(
                self.server,
                method,
                path,
                self.auth_headers(),
                self.ssl_context(),
                body=body,
                patch=patch,
                raw=raw,
                timeout=timeout,
            )
        except (OSError, http.client.HTTPException) as error:
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            why = str(reason) or type(reason).__name__
            raise ControlPlaneFailed(
                f"{method} {path}: no answer from {self.server}: {why}"
            ) from None

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """`kubectl ARGS` with this kubeconfig and context (the kubeconfig's user,
        whatever `bearer` is), `input` on its stdin, for at most `timeout` seconds;
        ControlPlaneFailed with its output when it fails and `check`. The kubectl on
        PATH, else the one cluster/kubernetes/build.sh built."""
        built = kubernetes_bin() / "kubectl"
        kubectl = shutil.which("kubectl") or (str(built) if built.is_file() else None)
        if kubectl is None:
            raise ControlPlaneFailed(
                f"no kubectl on PATH nor in {built.parent}: install one, or build it with "
                f"`bash cluster/kubernetes/build.sh` ({BIN_VARIABLE} says where)"
            )
        argv = [kubectl, "--kubeconfig", str(self.kubeconfig), "--context", self.context, *args]
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=timeout, check=False, input=input
            )
        except subprocess.TimeoutExpired:
            raise ControlPlaneFailed(
                f"kubectl {' '.join(args)} did not end in {timeout:.0f} s"
            ) from None
        if check and done.returncode != 0:
            raise ControlPlaneFailed(
                f"kubectl {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}"
            )
        return done


def _read(path: Path) -> Mapping[str, Any]:
    """The kubeconfig's document: JSON, or else YAML."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise KubeconfigError(f"{path}: no such kubeconfig file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise KubeconfigError(f"{path}: cannot read the kubeconfig: {error}") from None
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise KubeconfigError(f"{path}: not YAML or JSON: {error}") from None
    if not isinstance(document, dict):
        raise KubeconfigError(
            f"{path}: not a kubeconfig (a mapping with contexts, clusters, users)"
        )
    return document


def _named(
    config: Mapping[str, Any], kind: str, name: str, path: Path, where: str
) -> Mapping[str, Any]:
    """The `kind` (context, cluster, user) called `name` in the file's list of them."""
    entries = config.get(f"{kind}s") or []
    if not isinstance(entries, list):
        raise KubeconfigError(f"{path}: its {kind}s are not a list")
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == name:
            found = entry.get(kind) or {}
            if not isinstance(found, dict):
                raise KubeconfigError(f"{path}: {where} is not a mapping")
            return found
    known = ", ".join(str(e.get("name")) for e in entries if isinstance(e, dict)) or "none"
    raise KubeconfigError(f"{path}: {where} is not in the file (its {kind}s: {known})")


def _text(entry: Mapping[str, Any], key: str, path: Path) -> str:
    """`entry[key]`, a string; "" when absent."""
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise KubeconfigError(f"{path}: {key} is {value!r}, not a string")
    return value


def _pem(entry: Mapping[str, Any], key: str, path: Path) -> Pem | None:
    """`key`-data decoded (it wins, as with kubectl), else the file `key` names."""
    data = _text(entry, f"{key}-data", path)
    if data:
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error:
            raise KubeconfigError(f"{path}: {key}-data is not base64") from None
    named = _text(entry, key, path)
    return path.parent / named if named else None


def _source(key: str, pem: Pem) -> str:
    return f"{key} {pem}" if isinstance(pem, Path) else f"{key}-data"


def _load_chain(context: ssl.SSLContext, certificate: Pem, key: Pem) -> None:
    """The client certificate and its key into `context`; inline ones through memory
    files (load_cert_chain reads files only), never written to disk."""
    with contextlib.ExitStack() as opened:

        def as_file(pem: Pem) -> Path:
            if isinstance(pem, Path):
                return pem
            memory = os.memfd_create("kubeconfig-pem", os.MFD_CLOEXEC)
            opened.callback(os.close, memory)
            with open(memory, "wb", closefd=False) as writing:
                writing.write(pem)
            return Path(f"/proc/self/fd/{memory}")

        context.load_cert_chain(as_file(certificate), as_file(key))
