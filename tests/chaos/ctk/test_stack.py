"""An activity finds its stack from CTK's configuration as a chaosbed command does from
its options; a key that is not chaosbed's, or a bad port base, is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.ctk.stack import ActivityError, stack_of


def test_the_state_dir_and_runtime_come_from_the_configuration(tmp_path: Path) -> None:
    stack = stack_of({"chaosbed_state_dir": str(tmp_path), "chaosbed_runtime": "process"})

    assert stack.state_dir == tmp_path
    assert type(stack.runtime).__name__ == "ProcessRuntime"


def test_a_port_base_picks_the_stack_and_its_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHAOSBED_STATE_DIR", raising=False)

    stack = stack_of({"chaosbed_port_base": 31000, "chaosbed_runtime": "process"})

    assert stack.runtime.base_url("catalog") == "http://127.0.0.1:31000"
    assert stack.state_dir == Path(".chaosbed/stacks/31000")


@pytest.mark.parametrize(
    ("configuration", "named"),
    [
        ({"chaosbed_statedir": "x"}, "configuration chaosbed_statedir: not a chaosbed key"),
        ({"chaosbed_port_base": "eighty"}, "configuration chaosbed_port_base"),
        ({"chaosbed_port_base": 70000}, "configuration chaosbed_port_base"),
    ],
)
def test_a_bad_key_or_port_base_is_refused_by_name(
    configuration: dict[str, object], named: str
) -> None:
    with pytest.raises(ActivityError, match=named):
        stack_of(configuration)
