"""Fixtures every chaos test may use: free ports, polling, JSON over HTTP (no proxies)."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from benchmarks.harness import free_ports as free_ports  # the one copy; tests import it from here


def _free_port(taken: set[int]) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


@pytest.fixture
def free_port() -> Callable[[], int]:
    """A function returning a distinct free ephemeral port on each call."""
    taken: set[int] = set()
    return lambda: _free_port(taken)


def _eventually(check: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true within {timeout_s}s: {what or check}")
        time.sleep(0.05)


@pytest.fixture
def eventually() -> Callable[..., None]:
    """Poll a check until it is true, failing after a deadline."""
    return _eventually


@pytest.fixture
def get_json() -> Callable[[int, str], Any]:
    """GET http://127.0.0.1:<port><path> and parse the JSON answer (no proxies)."""

    def get(port: int, path: str) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", path)
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()

    return get
