"""`chaosbed monkey --faults`: a partition is on the menu only where the runtime gives
each service a network of its own (docker, where it is on the default menu too);
asked for on the process runtime it is refused before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.cli import main
from chaos.cli.monkey import DEFAULT_MENU, _menu
from chaos.exitcodes import ExitCode


def test_the_default_menu_partitions_only_where_the_runtime_drives_the_network() -> None:
    docker = {item.kind: item.weight for item in _menu(None, 10.0, "docker").items}
    process = {item.kind: item.weight for item in _menu(None, 10.0, "process").items}
    assert docker == {**process, "partition": 1.0}
    assert "partition" not in process and "partition" not in DEFAULT_MENU


def test_a_partition_on_the_process_runtime_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["monkey", "--runtime", "process", "--state-dir", str(tmp_path / "none"),
                   "--faults", "kill=1,partition=2"])  # fmt: skip
    assert status == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert "--faults: partition needs a network per service" in err and "--runtime docker" in err
    assert not (tmp_path / "none").exists()
