"""The stack's Services on loopback through the API server's Service proxy: a real
catalog app behind a stand-in for the API server (its Service proxy path, its
authentication taking the Authorization header, its Status answers when no pod
answers). Through a real API server: tests/cluster/test_stack_on_cluster.py."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import yarl
from aiohttp import web
from aiohttp.test_utils import TestServer

from chaos.faults.control_client import ControlClient
from chaos.runtime.cluster import service_proxy
from chaos.runtime.cluster.service_proxy import MARK, ServiceProxy, api_status
from services.catalog.app import create_app as catalog_app
from services.catalog.settings import CatalogSettings
from services.common import ServiceSettings

TOKEN = "control-s3cret"
RUNNER = "runner-token"
ROUTE = re.compile(r"/api/v1/namespaces/chaosbed/services/([a-z-]+):(\d+)/proxy(/.*)?")


class Api:
    """The API server's Service proxy: authenticates (and drops) Authorization, then
    sends the rest on to the Service's pod, or answers a Status when there is none."""

    def __init__(self) -> None:
        self.upstream: dict[str, str] = {}
        self.seen: list[dict[str, Any]] = []
        self.status: tuple[int, str] | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {RUNNER}":
            return web.json_response({"kind": "Status", "code": 401}, status=401)
        found = ROUTE.fullmatch(request.path)
        assert found, request.path
        service, path = found[1], found[3] or "/"
        self.seen.append(
            {
                "service": service,
                "path": path,
                "raw": request.raw_path,
                "headers": dict(request.headers),
            }
        )
        if self.status is not None:
            code, message = self.status
            status = {"kind": "Status", "code": code, "message": message}
            return web.json_response(status, status=code)
        headers = {k: v for k, v in request.headers.items() if k not in ("Authorization", "Host")}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method,
                self.upstream[service] + path,
                params=request.query,
                headers=headers,
                data=await request.read(),
            ) as answer,
        ):
            return web.Response(
                status=answer.status,
                body=await answer.read(),
                content_type=answer.content_type,
            )


@pytest.fixture
async def api(aiohttp_server: Any, unused_tcp_port_factory: Any) -> AsyncIterator[Api]:
    api = Api()
    catalog = await aiohttp_server(
        catalog_app(CatalogSettings(ServiceSettings("catalog", 0, control_token=TOKEN)))
    )
    api.upstream["catalog"] = f"http://127.0.0.1:{catalog.port}"
    server: TestServer = await aiohttp_server(api.app())
    api.upstream["server"] = f"http://127.0.0.1:{server.port}"
    yield api


@pytest.fixture
def proxy(api: Api) -> Iterator[ServiceProxy]:
    proxy = ServiceProxy(
        api.upstream["server"],
        "chaosbed",
        {"catalog": 8081, "playback": 8083},
        tls=ssl.create_default_context,
        headers=lambda: {"Authorization": f"Bearer {RUNNER}"},
    )
    yield proxy
    proxy.close()


async def test_a_request_reaches_the_service_through_the_api_as_the_runner(
    api: Api, proxy: ServiceProxy
) -> None:
    url = await asyncio.to_thread(proxy.url, "catalog")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/readyz") as answer:
            assert answer.status == 200
        async with session.get(f"{url}/popular", params={"limit": "3"}) as answer:
            assert answer.status == 200
            assert len((await answer.json())["titles"]) == 3

    assert url.startswith("http://127.0.0.1:")
    assert [(s["service"], s["path"]) for s in api.seen] == [
        ("catalog", "/readyz"),
        ("catalog", "/popular"),
    ]


async def test_the_control_api_s_token_passes_the_api_server_that_takes_authorization(
    api: Api, proxy: ServiceProxy
) -> None:
    url = await asyncio.to_thread(proxy.url, "catalog")
    async with aiohttp.ClientSession() as session:
        control = ControlClient({"catalog": url}, TOKEN, session)
        assert await control.list("catalog") == []
        wrong = ControlClient({"catalog": url}, "wrong", session)
        with pytest.raises(Exception, match="401"):
            await wrong.list("catalog")

    assert api.seen[0]["headers"]["X-Forwarded-Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("status", "message"),
    [(503, "no endpoints available for service"), (500, "dial tcp: connection refused"),
     (401, "Unauthorized"), (403, "forbidden"), (429, "too many requests")],
)  # fmt: skip
async def test_an_answer_of_the_api_server_s_own_is_a_502_of_the_proxy_s_once(
    api: Api, proxy: ServiceProxy, status: int, message: str
) -> None:
    """No pod to answer, a token expired, a right missing, a rate limit: never the
    service's answer (a 401 or 403 would count as a good one), and one request
    reaches the API once (a closed connection would have the client send it again)."""
    api.status = (status, message)
    url = await asyncio.to_thread(proxy.url, "catalog")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/readyz") as answer:
            body = await answer.json()
            assert answer.status == 502
            assert answer.headers[MARK] == str(status)
        async with session.put(f"{url}/readyz", json={}) as answer:
            assert answer.status == 502

    assert message in body["error"]
    assert len(api.seen) == 2


async def test_with_the_api_server_unreachable_the_proxy_answers_502_naming_it(
    api: Api,
) -> None:
    nowhere = ServiceProxy(
        "http://127.0.0.1:9", "chaosbed", {"catalog": 8081},
        tls=ssl.create_default_context, headers=lambda: {},
    )  # fmt: skip
    try:
        url = await asyncio.to_thread(nowhere.url, "catalog")
        async with aiohttp.ClientSession() as session, session.get(f"{url}/readyz") as answer:
            assert answer.status == 502
            assert answer.headers[MARK] == "none"
            assert "no answer from the API server" in (await answer.json())["error"]
    finally:
        nowhere.close()


@pytest.mark.parametrize(
    "path",
    ["/../../secrets", "/%2e%2e/%2E%2E/secrets", "/a/%252e%252e/b", "/./readyz", "/..%2fsecrets"],
)
async def test_a_path_that_would_leave_the_service_is_refused(
    api: Api, proxy: ServiceProxy, path: str
) -> None:
    url = await asyncio.to_thread(proxy.url, "catalog")
    async with aiohttp.ClientSession() as session:
        async with session.get(yarl.URL(url + path, encoded=True)) as answer:
            assert answer.status == 400

    assert api.seen == []


async def test_impersonation_is_not_passed_on(api: Api, proxy: ServiceProxy) -> None:
    url = await asyncio.to_thread(proxy.url, "catalog")
    sent = {"Impersonate-User": "system:admin", "Impersonate-Group": "system:masters"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/readyz", headers=sent) as answer:
            assert answer.status == 200

    assert not {k.lower() for k in api.seen[0]["headers"]} & {
        "impersonate-user",
        "impersonate-group",
    }


async def test_encoded_characters_of_a_path_reach_the_service_as_sent(
    api: Api, proxy: ServiceProxy
) -> None:
    url = await asyncio.to_thread(proxy.url, "catalog")
    async with aiohttp.ClientSession() as session:
        async with session.get(yarl.URL(url + "/titles/a%20b", encoded=True)) as answer:
            assert answer.status == 400  # not a title id: the catalog's own answer
            assert MARK not in answer.headers

    assert (
        api.seen[0]["raw"] == "/api/v1/namespaces/chaosbed/services/catalog:8081/proxy/titles/a%20b"
    )


async def test_a_service_s_own_error_answer_is_passed_on(api: Api, proxy: ServiceProxy) -> None:
    """Only the API server's own Status answers are taken for no answer."""
    url = await asyncio.to_thread(proxy.url, "catalog")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/no-such-route") as answer:
            assert answer.status == 404

    assert api_status("application/json", b'{"error": "not ready"}') is None
    assert api_status("text/plain", b'{"kind": "Status"}') is None
    status = {"kind": "Status", "message": "no endpoints"}
    assert api_status("application/json", json.dumps(status).encode()) == "no endpoints"


async def test_a_burst_of_requests_all_arrive_once(api: Api, proxy: ServiceProxy) -> None:
    url = await asyncio.to_thread(proxy.url, "catalog")
    async with aiohttp.ClientSession() as session:

        async def one() -> int:
            async with session.get(f"{url}/readyz") as answer:
                return answer.status

        statuses = await asyncio.gather(*(one() for _ in range(200)))

    assert statuses == [200] * 200
    assert len(api.seen) == 200


def test_a_service_not_proxied_is_a_key_error(proxy: ServiceProxy) -> None:
    with pytest.raises(KeyError):
        proxy.url("recommendations")


def test_a_proxy_that_did_not_start_in_time_leaves_no_thread_or_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its start timed out (the TLS context took longer): the thread ends, no port
    it bound stays open, and a later `url` starts afresh."""
    monkeypatch.setattr(service_proxy, "START_TIMEOUT_S", 0.2)
    late = threading.Event()
    calls: list[int] = []

    def tls() -> ssl.SSLContext:
        calls.append(1)
        if len(calls) == 1:
            assert late.wait(30)  # the first start, given up on before this returns
        return ssl.create_default_context()

    proxy = ServiceProxy("http://127.0.0.1:9", "chaosbed", {"catalog": 8081}, tls, dict)
    before = {t for t in threading.enumerate() if t.name == "service-proxy"}

    with pytest.raises(RuntimeError, match="did not start: timed out"):
        proxy.url("catalog")
    late.set()
    deadline = time.monotonic() + 10
    while {t for t in threading.enumerate() if t.name == "service-proxy"} - before:
        assert time.monotonic() < deadline, "the abandoned proxy's thread still runs"
        time.sleep(0.05)
    assert proxy._ports == {}

    monkeypatch.setattr(service_proxy, "START_TIMEOUT_S", 10.0)
    url = proxy.url("catalog")  # started afresh
    try:
        port = int(url.rpartition(":")[2])
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        proxy.close()
