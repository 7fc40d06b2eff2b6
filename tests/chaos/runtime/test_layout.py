"""A stack's ports move together with its port base, and later commands find them."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.runtime.errors import InvalidStack
from chaos.runtime.layout import (
    BLOCK,
    PORT_BASE_VARIABLE,
    StackPorts,
    parse_port_base,
    ports_for,
    state_dir_for,
)
from chaos.runtime.process import ProcessRuntime
from chaos.runtime.stack import STACK, check_start_order
from chaos.runtime.state_dir import StatePaths
from services.topology import PORTS, PROMETHEUS_PORT


def every_port(ports: StackPorts) -> list[int]:
    return [*ports.services.values(), ports.prometheus, ports.load, ports.grafana]


def test_without_a_base_the_stack_keeps_the_usual_ports_and_name() -> None:
    ports = StackPorts.from_base(None)
    assert dict(ports.services) == dict(PORTS)
    assert (ports.prometheus, ports.load, ports.project) == (PROMETHEUS_PORT, 9095, "chaosbed")
    assert ports.specs() == STACK


def test_a_base_moves_every_port_into_its_block_and_names_the_stack() -> None:
    ports = StackPorts.from_base(20000)
    found = every_port(ports)
    assert sorted(found) == list(range(20000, 20000 + len(found)))
    assert len(found) <= BLOCK
    assert ports.project == "chaosbed-20000"
    specs = ports.specs()
    check_start_order(specs)
    assert [s.name for s in specs] == [s.name for s in STACK]
    assert {s.port for s in specs}.isdisjoint(PORTS.values())


def test_two_bases_a_block_apart_share_no_port() -> None:
    first, second = StackPorts.from_base(20000), StackPorts.from_base(20000 + BLOCK)
    assert set(every_port(first)).isdisjoint(every_port(second))


@pytest.mark.parametrize("text", ["", "abc", "80", "1023", "65530", "-5", "20000.5"])
def test_a_bad_base_is_refused_naming_the_option(text: str) -> None:
    with pytest.raises(ValueError, match="--port-base"):
        parse_port_base(text)


def test_the_layout_up_wrote_is_found_from_the_state_directory(tmp_path: Path) -> None:
    StackPorts.from_base(21000).write(StatePaths.at(tmp_path))
    assert ports_for(tmp_path, environ={}) == StackPorts.from_base(21000)
    # it wins over the environment's base, which only says where a new stack goes
    assert ports_for(tmp_path, environ={PORT_BASE_VARIABLE: "22000"}).base == 21000
    # an explicit base wins over both
    assert ports_for(tmp_path, 23000, environ={}).base == 23000


def test_with_no_layout_written_the_environment_then_the_usual_ports(tmp_path: Path) -> None:
    assert ports_for(tmp_path, environ={PORT_BASE_VARIABLE: "22000"}).base == 22000
    assert ports_for(tmp_path, environ={}) == StackPorts()
    with pytest.raises(InvalidStack, match=PORT_BASE_VARIABLE):
        ports_for(tmp_path, environ={PORT_BASE_VARIABLE: "nine"})


def test_a_damaged_layout_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "ports.json").write_text("{")
    with pytest.raises(InvalidStack, match="ports.json"):
        ports_for(tmp_path, environ={})


def test_the_state_directory_follows_the_base_unless_given() -> None:
    assert state_dir_for(None, None) == Path(".chaosbed")
    assert state_dir_for(None, 20000) == Path(".chaosbed/stacks/20000")
    assert state_dir_for(Path("x"), 20000) == Path("x")


def test_a_runtime_on_a_state_directory_takes_its_layout(tmp_path: Path) -> None:
    StackPorts.from_base(24000).write(StatePaths.at(tmp_path))
    runtime = ProcessRuntime(tmp_path, environ={})
    assert runtime.base_url("catalog") == "http://127.0.0.1:24000"
    assert runtime.load_metrics_port() == 24007
