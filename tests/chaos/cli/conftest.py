"""Fixtures for the command-line tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture
def busy_lanes() -> Iterator[int]:
    """A port base whose two lanes' first ports are taken: no lane's stack can start."""
    for _ in range(20):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        listeners = []
        try:
            for port in (base, base + 10):
                listener = socket.socket()
                listeners.append(listener)
                listener.bind(("127.0.0.1", port))
                listener.listen()
        except OSError:
            for listener in listeners:
                listener.close()
            continue
        try:
            yield base
        finally:
            for listener in listeners:
                listener.close()
        return
    pytest.fail("no two free ports ten apart")
