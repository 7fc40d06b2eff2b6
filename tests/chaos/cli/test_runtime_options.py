"""The runtime factory and what each runtime offers network faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.cli import RuntimeChoice
from chaos.cli.runtime_options import RUNTIMES, capabilities_of, make_runtime
from chaos.faults.network import DRIVEN


@pytest.mark.parametrize("name", RUNTIMES)
def test_a_runtime_drives_network_kinds_exactly_when_it_has_a_network_layer(
    name: str, tmp_path: Path
) -> None:
    # the plan and the pre-run check read capabilities_of; the runner wires the network
    # driver when runtime.network is there: both must say the same of every runtime
    runtime = make_runtime(RuntimeChoice(name, tmp_path / "state"))  # builds, starts nothing
    kinds = capabilities_of(name).network_kinds
    assert (runtime.network is not None) == bool(kinds)
    assert kinds in (frozenset(), frozenset(DRIVEN))
