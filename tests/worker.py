"""Resources of this test process's own: names and port blocks that differ per
pytest-xdist worker, for the tests that run a stack of a fixed shape (a compose
project of their own, on ports of their own) beside the other workers' stacks.

Under xdist each worker has a port base (CHAOSBED_PORT_BASE, set by
tests/conftest.py) and a span of 100 ports above it; a test stack asks for a
block of ten at an offset in that span, and names its project after the worker.
Run in one process, the usual fixed block and name are kept.
"""

from __future__ import annotations

import os

from chaos.runtime import StackPorts

__all__ = ["worker_name", "worker_ports"]


def worker_name(name: str) -> str:
    """`name`, suffixed with the xdist worker (chaosbed-test-gw2) when there is one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{name}-{worker}" if worker else name


def worker_ports(offset: int, fixed: int) -> StackPorts:
    """The block at `offset` (a multiple of 10 under 100) above this worker's base;
    alone, the block whose catalog is on `fixed`."""
    base = StackPorts.from_environment().base
    return StackPorts.from_base(fixed if base is None else base + offset)
