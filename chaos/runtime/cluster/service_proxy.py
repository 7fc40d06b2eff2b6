"""The stack's Services on this machine's loopback, through the Kubernetes API server.

On a cluster a team already has, the runner has no route to the Services'
addresses. The API server has: its Service proxy
(`/api/v1/namespaces/<ns>/services/<name>:<port>/proxy/<path>`) passes a
request to one of the Service's ready pods, picked afresh for each request.
`ServiceProxy` listens on a loopback port for each Service (any free one) and
sends every request it gets there, as the runner's identity, so the runner's
clients (members' load, the control API, Prometheus queries, readiness) use
`http://127.0.0.1:<port>` as on the other runtimes.

What a member would see is kept, and nothing of the API server's passes for
the service's:

* the API server takes the Authorization header for itself (and drops it),
  so a caller's (the control API's bearer token) is passed on as
  `X-Forwarded-Authorization`, which the control API reads;
* every answer of the API server's own (a Kubernetes `Status`: no ready
  endpoint, a connection to the pod refused or reset, a pod that did not
  answer, and also an expired token, a right missing, a rate limit) becomes a
  502 with `X-Chaosbed-Proxy: <the API server's status>` and its message, so
  a member counts an error, never a service's good answer; the services
  never answer a Status. (Closing the caller's connection instead would have
  the caller's HTTP client send an idempotent request again, to another pod,
  hiding the failure.) A request that gets no answer from the API server at
  all is answered the same way;
* only the Service's own paths are reached: a path that would leave them
  (`..`, `.`, or their encodings) is refused with 400, and impersonation
  headers are dropped, so the listener lends the runner's identity to no
  other API call.

The listeners run on an event loop in a thread of their own, so that the
synchronous runtime API (`base_url`) can hand out their addresses to any
caller in the process; they stop with `close` (or the process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import threading
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping

import aiohttp
import yarl
from aiohttp import web

__all__ = ["HOP_BY_HOP", "MARK", "ServiceProxy", "api_status", "leaves"]

#: An answer the proxy made itself, naming why (the API server's status, or none).
MARK = "X-Chaosbed-Proxy"
#: Not passed on either way (RFC 9110 7.6.1), with what the proxy sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "authorization",
    }
)
START_TIMEOUT_S = 10.0
#: The longest a request waits for the API server's answer (members' own timeouts
#: are shorter; a Prometheus query's is 10 s).
REQUEST_TIMEOUT_S = 30.0


def api_status(content_type: str, body: bytes) -> str | None:
    """The message of an answer of the API server's own (a Kubernetes Status), or None
    for the service's."""
    if "application/json" not in content_type:
        return None
    try:
        found = json.loads(body)
    except ValueError:
        return None
    if not isinstance(found, dict) or found.get("kind") != "Status":
        return None
    return str(found.get("message") or found.get("reason") or "no message")


def leaves(raw_path: str) -> bool:
    """Whether a request path would leave the Service's proxy path once the server
    resolves its dot segments (encoded ones included)."""
    path = raw_path.split("?", 1)[0]
    for _ in range(3):  # %252e%252e decoded twice is still ..
        path = urllib.parse.unquote(path)
    return any(segment in (".", "..") for segment in path.replace("\\", "/").split("/"))


class ServiceProxy:
    """A loopback port per Service, forwarding through the API server's Service proxy.

    `services`: each Service's name and port; `server`: the API's URL; `tls` and
    `headers`: how to reach it (once, when the proxy starts) and as whom (each request).
    """

    def __init__(
        self,
        server: str,
        namespace: str,
        services: Mapping[str, int],
        tls: Callable[[], ssl.SSLContext],
        headers: Callable[[], Mapping[str, str]],
    ) -> None:
        self.server = server.rstrip("/")
        self.namespace = namespace
        self.services = dict(services)
        self._tls = tls
        self._headers = headers
        self._ports: dict[str, int] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    def url(self, service: str) -> str:
        """`http://127.0.0.1:<port>` for `service` (KeyError for one not proxied)."""
        if service not in self.services:
            raise KeyError(service)
        self._start()
        return f"http://127.0.0.1:{self._ports[service]}"

    def target(self, service: str) -> str:
        """Where a request to `service` goes, before its path."""
        port = self.services[service]
        return f"{self.server}/api/v1/namespaces/{self.namespace}/services/{service}:{port}/proxy"

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            started, abandoned, stop = threading.Event(), threading.Event(), asyncio.Event()
            failure: list[BaseException] = []
            ports: dict[str, int] = {}
            loops: list[asyncio.AbstractEventLoop] = []

            def serve() -> None:
                loop = asyncio.new_event_loop()
                loops.append(loop)
                try:
                    loop.run_until_complete(self._serve(started, abandoned, stop, failure, ports))
                finally:
                    loop.close()

            def abandon() -> None:
                # a late start must not listen for no one: before it would say it
                # started it sees this, or, past that, it is stopped (set first: a loop
                # not listed yet is one that has not looked)
                abandoned.set()
                with contextlib.suppress(IndexError, RuntimeError):  # no loop, or closed
                    loops[0].call_soon_threadsafe(stop.set)

            thread = threading.Thread(target=serve, name="service-proxy", daemon=True)
            thread.start()
            try:
                in_time = started.wait(START_TIMEOUT_S)
            except BaseException:  # interrupted while it starts
                abandon()
                raise
            if not in_time or failure:
                abandon()
                raise RuntimeError(
                    f"the Service proxy did not start: {failure[0] if failure else 'timed out'}"
                )
            self._thread, self._loop, self._stop, self._ports = thread, loops[0], stop, ports

    async def _serve(
        self,
        started: threading.Event,
        abandoned: threading.Event,
        stop: asyncio.Event,
        failure: list[BaseException],
        ports: dict[str, int],
    ) -> None:
        runners: list[web.AppRunner] = []
        try:
            connector = aiohttp.TCPConnector(ssl=self._tls(), limit=200)
            timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
            async with aiohttp.ClientSession(
                connector=connector, timeout=timeout, auto_decompress=False
            ) as session:
                for service in self.services:
                    app = web.Application(client_max_size=64 * 1024**2)
                    app.router.add_route("*", "/{tail:.*}", self._handler(service, session))
                    runner = web.AppRunner(app, access_log=None, handle_signals=False)
                    await runner.setup()
                    runners.append(runner)
                    site = web.TCPSite(runner, "127.0.0.1", 0)
                    await site.start()
                    ports[service] = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
                if abandoned.is_set():
                    return
                started.set()
                await stop.wait()
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
            failure.append(exc)
            started.set()
        finally:
            for runner in runners:
                await runner.cleanup()

    def _handler(
        self, service: str, session: aiohttp.ClientSession
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        base = self.target(service)

        async def forward(request: web.Request) -> web.StreamResponse:
            if leaves(request.raw_path):
                return web.json_response(
                    {"error": f"not a path of the Service {service}: {request.raw_path}"},
                    status=400,
                )
            sent = {
                k: v
                for k, v in request.headers.items()
                if k.lower() not in HOP_BY_HOP and not k.lower().startswith("impersonate-")
            }
            if "Authorization" in request.headers:
                sent["X-Forwarded-Authorization"] = request.headers["Authorization"]
            sent.update(self._headers())  # as whom the runtime acts now
            body = await request.read()
            url = yarl.URL(base + request.raw_path, encoded=True)
            try:
                async with session.request(
                    request.method,
                    url,
                    headers=sent,
                    data=body if body else None,
                    allow_redirects=False,
                ) as answer:
                    content = await answer.read()
                    status = answer.status
                    kind = answer.headers.get("Content-Type", "")
                    back = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            except (aiohttp.ClientError, TimeoutError) as exc:
                return _made("none", f"no answer from the API server: {exc!r}")
            message = api_status(kind, content)
            if message is not None:
                return _made(str(status), message)
            return web.Response(status=status, body=content, headers=back)

        return forward

    def close(self) -> None:
        """Stop listening: the ports close (a later `url` starts again)."""
        with self._lock:
            loop, stop, thread = self._loop, self._stop, self._thread
            if loop is None or stop is None or thread is None:
                return
            loop.call_soon_threadsafe(stop.set)
            thread.join(START_TIMEOUT_S)
            self._thread = self._loop = self._stop = None
            self._ports.clear()


def _made(status: str, message: str) -> web.Response:
    """A 502 of the proxy's own: the service did not answer, and why."""
    return web.json_response(
        {"error": f"the API server's proxy: {message}"}, status=502, headers={MARK: status}
    )
