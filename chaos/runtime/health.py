"""Is a service answering on its port: HTTP probes of /healthz and /readyz on 127.0.0.1
(http.client: no proxies, no event loop), and whether a port is free to listen on."""

from __future__ import annotations

import errno
import http.client
import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

__all__ = ["Health", "Probe", "check_health", "port_free", "probe"]


@dataclass(frozen=True)
class Probe:
    """The answer to one GET: the status, or None and the reason when there was no answer."""

    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200

    def describe(self) -> str:
        if self.status is not None:
            return f"HTTP {self.status}"
        return self.error or "no answer"


def probe(port: int, path: str, *, host: str = "127.0.0.1", timeout_s: float = 1.0) -> Probe:
    connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        return Probe(response.status)
    except (OSError, http.client.HTTPException) as error:
        return Probe(None, f"{type(error).__name__}: {error}".rstrip(": "))
    finally:
        connection.close()


@dataclass(frozen=True)
class Health:
    healthz: Probe
    readyz: Probe


def check_health(
    ports: Sequence[int],
    *,
    timeout_s: float = 1.0,
    paths: Sequence[tuple[str, str]] | None = None,
) -> list[Health]:
    """Probe every port's health and readiness paths at once (`paths`, one pair per port;
    default /healthz and /readyz); answers in the order of `ports`."""
    if not ports:
        return []
    pairs = paths if paths is not None else [("/healthz", "/readyz")] * len(ports)
    targets = [(port, path) for port, pair in zip(ports, pairs, strict=True) for path in pair]
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        answers = list(pool.map(lambda t: probe(t[0], t[1], timeout_s=timeout_s), targets))
    return [Health(answers[i], answers[i + 1]) for i in range(0, len(answers), 2)]


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if a server could listen on host:port now (as our services do, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True
