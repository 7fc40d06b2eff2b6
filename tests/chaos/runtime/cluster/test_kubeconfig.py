"""ClusterApi as a kubeconfig makes it, against a real HTTPS server on loopback: a
small aiohttp app standing in for the API server, with a CA and server and client
certificates made here with the openssl command. The app records who asked (the
Authorization header, the client certificate's common name) and answers like the
API: a pod list, a patch, /healthz, and 403 with a Status for anything else.
kubectl is a fake script on PATH that prints its arguments."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaos.runtime.cluster.control_plane import ControlPlaneFailed
from chaos.runtime.cluster.kubeconfig import ClusterApi, KubeconfigError

PODS = "/api/v1/namespaces/x/pods"
FORBIDDEN = {
    "kind": "Status",
    "apiVersion": "v1",
    "status": "Failure",
    "message": 'secrets is forbidden: User "alice" cannot list resource "secrets"',
    "reason": "Forbidden",
    "code": 403,
}

# -- certificates


@dataclass(frozen=True)
class Pki:
    """PEM files: a CA, another CA that signed nothing here, the server's certificate
    for 127.0.0.1, one for the name kube.test only, and alice's client certificate."""

    dir: Path

    def __getitem__(self, name: str) -> Path:
        return self.dir / name


def openssl(pki: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=pki, check=True, capture_output=True)


def make_ca(pki: Path, name: str) -> None:
    openssl(pki, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "1",
            "-subj", f"/CN={name}")  # fmt: skip


def make_signed(pki: Path, name: str, serial: int, subject: str, extensions: str) -> None:
    """`name`.crt and .key, signed by ca, with `extensions` (x509v3 config lines)."""
    openssl(pki, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", subject)  # fmt: skip
    (pki / f"{name}.ext").write_text(extensions)
    openssl(pki, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-set_serial", str(serial), "-days", "1",
            "-extfile", f"{name}.ext", "-out", f"{name}.crt")  # fmt: skip


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    pki = tmp_path_factory.mktemp("pki")
    make_ca(pki, "ca")
    make_ca(pki, "other-ca")
    server = "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    make_signed(pki, "server", 2, "/CN=kube-apiserver", server + "subjectAltName=IP:127.0.0.1\n")
    make_signed(pki, "named", 3, "/CN=kube-apiserver", server + "subjectAltName=DNS:kube.test\n")
    make_signed(pki, "alice", 4, "/O=testers/CN=alice",
                "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")  # fmt: skip
    return Pki(pki)


def data(path: Path) -> str:
    """A file as a kubeconfig's -data field has it."""
    return base64.b64encode(path.read_bytes()).decode()


# -- the stand-in API server


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    authorization: str | None
    client: str | None
    """The common name of the client certificate presented, if any."""
    content_type: str | None
    body: Any


SEEN = web.AppKey("seen", list[Seen])


async def record(request: web.Request) -> None:
    peer = request.transport.get_extra_info("peercert") if request.transport else None
    names = dict(pair[0] for pair in peer["subject"]) if peer else {}
    text = await request.text()
    request.app[SEEN].append(
        Seen(
            request.method,
            request.path_qs,
            request.headers.get("Authorization"),
            names.get("commonName"),
            request.headers.get("Content-Type"),
            json.loads(text) if text else None,
        )
    )


async def pods(request: web.Request) -> web.Response:
    await record(request)
    return web.json_response({"kind": "PodList", "items": []})


async def patch_pod(request: web.Request) -> web.Response:
    await record(request)
    return web.json_response({"kind": "Pod", "metadata": {"name": request.match_info["name"]}})


async def healthz(request: web.Request) -> web.Response:
    await record(request)
    return web.Response(text="ok")


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(5)  # cancelled when the client gives up
    return web.Response(text="late")


async def forbidden(request: web.Request) -> web.Response:
    await record(request)
    return web.json_response(FORBIDDEN, status=403)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(PODS, pods)
    app.router.add_route("*", PODS + "/{name}", patch_pod)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/slow", slow)
    app.router.add_route("*", "/{tail:.*}", forbidden)


def create_app() -> web.Application:
    app = web.Application()
    app[SEEN] = []
    setup_routes(app)
    return app


@dataclass
class FakeApi:
    url: str
    seen: list[Seen] = field(default_factory=list)


Serve = Callable[..., Awaitable[FakeApi]]


@pytest.fixture
def serve(aiohttp_server: Any, pki: Pki) -> Serve:
    """serve(certificate="server", clients=ssl.CERT_NONE): the app over TLS with that
    certificate, asking clients for one of ca's as `clients` says."""

    async def start(
        certificate: str = "server", clients: ssl.VerifyMode = ssl.CERT_NONE
    ) -> FakeApi:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(pki[f"{certificate}.crt"], pki[f"{certificate}.key"])
        context.load_verify_locations(pki["ca.crt"])
        context.verify_mode = clients
        app = create_app()
        server = await aiohttp_server(app, ssl=context)
        return FakeApi(f"https://127.0.0.1:{server.port}", app[SEEN])

    return start


def write_kubeconfig(
    where: Path, cluster: dict[str, Any], user: dict[str, Any], *, as_json: bool = False
) -> Path:
    """One context, "test" (the current one), of cluster "test" and user "tester"."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": cluster}],
        "users": [{"name": "tester", "user": user}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "tester"}}],
        "current-context": "test",
    }
    path = where / ("config.json" if as_json else "config")
    path.write_text(json.dumps(config, indent=2) if as_json else yaml.safe_dump(config))
    return path


def trusting(pki: Pki, url: str) -> dict[str, Any]:
    return {"server": url, "certificate-authority-data": data(pki["ca.crt"])}


async def get(cluster: ClusterApi, path: str = PODS, **options: Any) -> Any:
    return await asyncio.to_thread(cluster.api, "GET", path, **options)


# -- who it is


async def test_a_token_is_sent_as_bearer_and_the_answer_is_its_json(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve()
    config = write_kubeconfig(tmp_path, trusting(pki, api.url), {"token": "s3cret"})

    answer = await get(ClusterApi.from_kubeconfig(config))

    assert answer == {"kind": "PodList", "items": []}
    assert [(s.method, s.path, s.authorization) for s in api.seen] == [
        ("GET", PODS, "Bearer s3cret")
    ]


async def test_a_token_file_is_found_beside_the_kubeconfig_and_read_at_each_request(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve()
    (tmp_path / "token").write_text("first\n")
    cluster = ClusterApi.from_kubeconfig(
        write_kubeconfig(tmp_path, trusting(pki, api.url), {"tokenFile": "token"})
    )

    await get(cluster)
    (tmp_path / "token").write_text("rotated\n")
    await get(cluster)

    assert [s.authorization for s in api.seen] == ["Bearer first", "Bearer rotated"]


async def test_a_username_and_password_are_sent_as_basic_auth(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve()
    user = {"username": "alice", "password": "pa:ss"}
    await get(ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, trusting(pki, api.url), user)))

    assert api.seen[0].authorization == "Basic " + base64.b64encode(b"alice:pa:ss").decode()


async def test_a_client_certificate_from_files_is_presented_to_a_server_requiring_one(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve(clients=ssl.CERT_REQUIRED)
    user = {"client-certificate": str(pki["alice.crt"]), "client-key": str(pki["alice.key"])}
    await get(ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, trusting(pki, api.url), user)))

    assert [(s.client, s.authorization) for s in api.seen] == [("alice", None)]


async def test_a_client_certificate_given_inline_is_presented_as_well(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve(clients=ssl.CERT_REQUIRED)
    user = {
        "client-certificate-data": data(pki["alice.crt"]),
        "client-key-data": data(pki["alice.key"]),
    }
    await get(ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, trusting(pki, api.url), user)))

    assert [(s.client, s.authorization) for s in api.seen] == [("alice", None)]


async def test_bearer_replaces_the_kubeconfig_identity_client_certificate_included(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve(clients=ssl.CERT_OPTIONAL)  # asks for one: would see it if sent
    user = {
        "client-certificate": str(pki["alice.crt"]),
        "client-key": str(pki["alice.key"]),
        "token": "alices-token",
    }
    cluster = ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, trusting(pki, api.url), user))

    await get(cluster)
    cluster.bearer = "runner-token"
    await get(cluster)

    assert [(s.client, s.authorization) for s in api.seen] == [
        ("alice", "Bearer alices-token"),
        (None, "Bearer runner-token"),
    ]


async def test_an_aiohttp_client_with_its_ssl_context_and_headers_is_the_same_identity(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve(certificate="named", clients=ssl.CERT_OPTIONAL)
    cluster_entry = {**trusting(pki, api.url), "tls-server-name": "kube.test"}
    user = {"client-certificate": str(pki["alice.crt"]), "client-key": str(pki["alice.key"])}
    cluster = ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, cluster_entry, user))

    async with aiohttp.ClientSession() as session:
        for bearer in (None, "runner-token"):
            cluster.bearer = bearer
            async with session.get(
                cluster.server + PODS, ssl=cluster.ssl_context(), headers=cluster.auth_headers()
            ) as answer:
                assert answer.status == 200

    assert [(s.client, s.authorization) for s in api.seen] == [
        ("alice", None),
        (None, "Bearer runner-token"),
    ]


# -- whom it trusts


async def test_a_relative_certificate_authority_is_found_beside_the_kubeconfig(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve()
    (tmp_path / "ca.crt").write_bytes(pki["ca.crt"].read_bytes())
    cluster_entry = {"server": api.url, "certificate-authority": "ca.crt"}

    answer = await get(ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, cluster_entry, {})))

    assert answer["items"] == []


async def test_a_server_signed_by_another_ca_is_no_answer_naming_the_server(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve()
    cluster_entry = {"server": api.url, "certificate-authority": str(pki["other-ca.crt"])}
    cluster = ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, cluster_entry, {}))

    with pytest.raises(ControlPlaneFailed) as failed:
        await get(cluster)

    assert f"GET {PODS}: no answer from {api.url}: " in str(failed.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value)
    assert api.seen == []


async def test_insecure_skip_tls_verify_accepts_a_server_no_ca_vouches_for(
    serve: Serve, tmp_path: Path
) -> None:
    api = await serve()
    cluster_entry = {"server": api.url, "insecure-skip-tls-verify": True}

    answer = await get(ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, cluster_entry, {})))

    assert answer["items"] == []


async def test_tls_server_name_is_the_name_the_server_certificate_is_checked_for(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve(certificate="named")  # for kube.test, reached at 127.0.0.1
    named = {**trusting(pki, api.url), "tls-server-name": "kube.test"}
    unnamed = ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, trusting(pki, api.url), {}))

    assert await get(ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, named, {})))
    with pytest.raises(ControlPlaneFailed, match="IP address mismatch"):
        await get(unnamed)


async def test_a_server_that_refuses_connections_is_no_answer_naming_it(
    pki: Pki, tmp_path: Path, unused_tcp_port: int
) -> None:
    url = f"https://127.0.0.1:{unused_tcp_port}"
    cluster = ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, trusting(pki, url), {}))

    with pytest.raises(ControlPlaneFailed, match=f"no answer from {url}: .*[Cc]onnection refused"):
        await get(cluster)


async def test_an_answer_that_takes_too_long_is_no_answer_naming_the_server(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve()
    cluster = ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, trusting(pki, api.url), {}))

    with pytest.raises(
        ControlPlaneFailed, match=f"^GET /slow: no answer from {api.url}: .*timed out"
    ):
        await get(cluster, "/slow", timeout=0.3)


# -- what it asks


async def test_an_http_error_carries_the_method_path_status_and_answer(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve()
    cluster = ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, trusting(pki, api.url), {}))

    with pytest.raises(ControlPlaneFailed) as failed:
        await get(cluster, "/api/v1/secrets")

    message = str(failed.value)
    assert message.startswith("GET /api/v1/secrets: HTTP 403: ")
    assert json.loads(message.split("HTTP 403: ", 1)[1]) == FORBIDDEN


async def test_a_patch_is_a_merge_patch_and_other_bodies_are_json(
    serve: Serve, pki: Pki, tmp_path: Path
) -> None:
    api = await serve()
    cluster = ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, trusting(pki, api.url), {}))
    labels = {"metadata": {"labels": {"chaos": "yes"}}}

    patched = await asyncio.to_thread(cluster.api, "PATCH", PODS + "/p", labels, patch=True)
    await asyncio.to_thread(cluster.api, "PUT", PODS + "/p", labels)

    assert patched == {"kind": "Pod", "metadata": {"name": "p"}}
    assert [(s.method, s.content_type, s.body) for s in api.seen] == [
        ("PATCH", "application/merge-patch+json", labels),
        ("PUT", "application/json", labels),
    ]


async def test_raw_is_the_answer_text(serve: Serve, pki: Pki, tmp_path: Path) -> None:
    api = await serve()
    cluster = ClusterApi.from_kubeconfig(write_kubeconfig(tmp_path, trusting(pki, api.url), {}))

    assert await get(cluster, "/healthz", raw=True) == "ok"


async def test_a_json_kubeconfig_is_read_as_well(serve: Serve, pki: Pki, tmp_path: Path) -> None:
    api = await serve()
    config = write_kubeconfig(tmp_path, trusting(pki, api.url), {"token": "t"}, as_json=True)

    assert (await get(ClusterApi.from_kubeconfig(config)))["items"] == []
    assert api.seen[0].authorization == "Bearer t"


# -- kubeconfigs it refuses


def context_of(cluster: str = "test", user: str = "tester") -> dict[str, Any]:
    return {"name": "test", "context": {"cluster": cluster, "user": user}}


SERVER = "https://127.0.0.1:6443"


def cluster_named_test(cluster: dict[str, Any]) -> dict[str, Any]:
    return {"name": "test", "cluster": cluster}


CLUSTER = cluster_named_test({"server": SERVER})
EXEC = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws"}}
AUTH_PROVIDER = {"auth-provider": {"name": "oidc"}}


def config_text(
    *,
    current: str | None = "test",
    clusters: list[dict[str, Any]] | None = None,
    user: dict[str, Any] | None = None,
    contexts: list[dict[str, Any]] | None = None,
) -> str:
    config: dict[str, Any] = {
        "clusters": [CLUSTER] if clusters is None else clusters,
        "users": [{"name": "tester", "user": user or {"token": "t"}}],
        "contexts": [context_of()] if contexts is None else contexts,
    }
    if current is not None:
        config["current-context"] = current
    return yaml.safe_dump(config)


BROKEN = {
    "bad yaml": ("clusters: [\n  - {name: a", "not YAML or JSON"),
    "not a mapping": ("- just\n- a list\n", "not a kubeconfig"),
    "no current context": (config_text(current=None), "no current-context; name the context"),
    "unknown context": (
        config_text(current="prod"),
        "context 'prod' is not in the file (its contexts: test)",
    ),
    "cluster missing": (
        config_text(contexts=[context_of(cluster="gone")]),
        "cluster 'gone' (of context 'test') is not in the file (its clusters: test)",
    ),
    "user missing": (
        config_text(contexts=[context_of(user="bob")]),
        "user 'bob' (of context 'test') is not in the file (its users: tester)",
    ),
    "no server": (
        config_text(clusters=[cluster_named_test({})]),
        "cluster 'test' (of context 'test') has no server URL",
    ),
    "exec user": (
        config_text(user=EXEC),
        "user 'tester' (of context 'test') authenticates with exec",
    ),
    "auth-provider user": (config_text(user=AUTH_PROVIDER), "authenticates with auth-provider"),
    "token and username": (
        config_text(user={"token": "t", "username": "alice"}),
        "user 'tester' (of context 'test') has both a token and a username",
    ),
    "ca and insecure": (
        config_text(
            clusters=[
                cluster_named_test(
                    {
                        "server": SERVER,
                        "certificate-authority-data": "QUJD",
                        "insecure-skip-tls-verify": True,
                    }
                )
            ]
        ),
        "both a certificate authority and insecure-skip-tls-verify",
    ),
    "certificate without key": (
        config_text(user={"client-certificate-data": "QUJD"}),
        "a client certificate without its key",
    ),
    "missing ca file": (
        config_text(
            clusters=[cluster_named_test({"server": SERVER, "certificate-authority": "nope.crt"})]
        ),
        "the certificate-authority {dir}/nope.crt of context 'test' cannot be loaded: "
        "[Errno 2] No such file or directory",
    ),
    "bad client key data": (
        config_text(user={"client-certificate-data": "QUJD", "client-key-data": "QUJD"}),
        "the client-certificate-data and client-key-data of context 'test' cannot be loaded",
    ),
}


@pytest.mark.parametrize("text, wrong", list(BROKEN.values()), ids=list(BROKEN))
def test_a_kubeconfig_that_cannot_be_used_is_refused_naming_the_file_and_why(
    tmp_path: Path, text: str, wrong: str
) -> None:
    path = tmp_path / "config"
    path.write_text(text)

    with pytest.raises(KubeconfigError) as refused:
        ClusterApi.from_kubeconfig(path)

    assert str(refused.value).startswith(f"{path}: ")
    assert wrong.format(dir=tmp_path) in str(refused.value)
    assert refused.value.exit_code == 2


def test_a_plugin_user_is_told_what_to_use_instead(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(config_text(user=EXEC))

    with pytest.raises(KubeconfigError, match="a token .*ServiceAccount.* or a client certificate"):
        ClusterApi.from_kubeconfig(path)


def test_a_missing_kubeconfig_is_named(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match=f"^{tmp_path}/absent: no such kubeconfig file$"):
        ClusterApi.from_kubeconfig(tmp_path / "absent")


def test_a_context_given_is_used_instead_of_the_current_one(tmp_path: Path) -> None:
    path = tmp_path / "config"
    other = {"name": "staging", "context": {"cluster": "test", "user": "tester"}}
    path.write_text(config_text(current="prod", contexts=[context_of(), other]))

    assert ClusterApi.from_kubeconfig(path, context="staging").context == "staging"


KEYS = ("clusters", "users", "contexts", "current-context", "name", "cluster", "user",
        "context", "server", "certificate-authority", "certificate-authority-data",
        "insecure-skip-tls-verify", "tls-server-name", "token", "tokenFile", "username",
        "password", "client-certificate", "client-key", "client-certificate-data",
        "client-key-data", "exec", "auth-provider")  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=6)
    | st.sampled_from(["test", "tester", "https://127.0.0.1:6443", "QUJD", "config"])
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner),
    max_leaves=25,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=DOCUMENTS)
def test_any_document_is_read_or_refused_with_a_kubeconfig_error(
    tmp_path: Path, document: Any
) -> None:
    path = tmp_path / "config"
    path.write_text(json.dumps(document))
    try:
        cluster = ClusterApi.from_kubeconfig(path)
    except KubeconfigError as refused:
        assert str(refused).startswith(f"{path}: ")
    else:
        assert cluster.server.startswith(("https://", "http://"))


# -- kubectl


# builtins only: PATH holds nothing else
FAKE_KUBECTL = """#!/bin/sh
printf '%s\\n' "$@"
while read -r line; do printf '%s\\n' "$line"; done
"""
FAILING_KUBECTL = """#!/bin/sh
echo 'error: the server doesn'"'"'t have a resource type "pods"' >&2
exit 1
"""


def fake_kubectl(where: Path, script: str) -> Path:
    where.mkdir(exist_ok=True)
    kubectl = where / "kubectl"
    kubectl.write_text(script)
    kubectl.chmod(0o755)
    return where


@pytest.fixture
def cluster(tmp_path: Path) -> ClusterApi:
    path = tmp_path / "config"
    path.write_text(config_text())
    return ClusterApi.from_kubeconfig(path)


def test_kubectl_is_given_the_kubeconfig_and_its_context(
    cluster: ClusterApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(fake_kubectl(tmp_path / "bin", FAKE_KUBECTL)))

    done = cluster.kubectl("get", "pods", "-n", "x", input="on stdin\n")

    assert done.stdout.splitlines() == [
        "--kubeconfig", str(tmp_path / "config"), "--context", "test",
        "get", "pods", "-n", "x", "on stdin",
    ]  # fmt: skip


def test_a_failing_kubectl_is_a_failure_with_its_stderr_unless_unchecked(
    cluster: ClusterApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(fake_kubectl(tmp_path / "bin", FAILING_KUBECTL)))

    with pytest.raises(ControlPlaneFailed) as failed:
        cluster.kubectl("get", "pods")

    assert str(failed.value) == (
        'kubectl get pods exited 1: error: the server doesn\'t have a resource type "pods"'
    )
    assert cluster.kubectl("get", "pods", check=False).returncode == 1


def test_without_kubectl_on_path_the_built_one_is_used(
    cluster: ClusterApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv(
        "CHAOSBED_KUBERNETES_BIN", str(fake_kubectl(tmp_path / "built", FAKE_KUBECTL))
    )

    assert cluster.kubectl("version").stdout.splitlines()[-1] == "version"


def test_no_kubectl_anywhere_says_where_it_looked_and_how_to_get_one(
    cluster: ClusterApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("CHAOSBED_KUBERNETES_BIN", str(tmp_path / "built"))

    with pytest.raises(ControlPlaneFailed) as failed:
        cluster.kubectl("version")

    assert f"no kubectl on PATH nor in {tmp_path / 'built'}" in str(failed.value)
    assert "cluster/kubernetes/build.sh" in str(failed.value)
