"""What the CTK tests share: the four real services on loopback as a stack the
activities find (a runtime standing in for the process runtime), a real process stack
per end-to-end module, and the real `chaos` command line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

import pytest

from chaos.cli import main
from chaos.ctk.stack import Stack
from chaos.runtime.process import ProcessRuntime
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


#: The Chaos Toolkit's command line, installed beside this Python.
CHAOS = Path(sys.executable).parent / "chaos"


def chaos(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """`chaos ARGS` (no version check, no log file) in `cwd`, to its end."""
    return subprocess.run(
        [str(CHAOS), "--no-version-check", "--no-log-file", *args], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def run_argv(path: Path, journal: Path) -> list[str]:
    """`chaos run --journal-path JOURNAL PATH`, for a process the test signals."""
    return [str(CHAOS), "--no-version-check", "--no-log-file", "run", "--journal-path",
            str(journal), str(path)]  # fmt: skip


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A process stack of the module's own, on its worker's ports."""
    state = tmp_path_factory.mktemp("ctk") / "state"
    assert main(["up", "--runtime", "process", "--state-dir", str(state), "--timeout", "120"]) == 0
    try:
        yield state
    finally:
        ProcessRuntime(state).down()
