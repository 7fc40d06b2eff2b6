"""The four real services on loopback, as a stack the CTK activities find (a runtime
standing in for the process runtime, with the services' ports and control token)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chaos.ctk.stack import Stack
from chaos.runtime.stack import ServiceSpec
from tests.chaos.runner.conftest import SERVICES, TOKEN, running_stack
from tests.chaos.runner.conftest import Stack as Services
from tests.chaos.runtime.standin_runtime import StandinRuntime


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with running_stack(tmp_path) as started:
        yield started


@pytest.fixture
def stack(services: Services, tmp_path: Path) -> Stack:
    specs = [ServiceSpec(name, f"services.{name}", services.ports[name]) for name in SERVICES]
    return Stack(StandinRuntime(services=specs, token=TOKEN), tmp_path / "state")
