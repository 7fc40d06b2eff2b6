"""The `chaosbed` command line, driving the real process runtime on a tiny stack."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chaos.cli import RuntimeChoice, main
from chaos.cli.main import build_parser
from chaos.cli.runtime_options import make_runtime, resolve_stack_options
from chaos.cli.up import NO_PROMETHEUS
from chaos.exitcodes import ExitCode
from chaos.runtime import ProcessRuntime, RestartPolicy, Runtime, ServiceSpec
from chaos.runtime.docker import DockerRuntime
from chaos.runtime.layout import StackPorts
from chaos.runtime.process import PrometheusOptions
from chaos.runtime.state_dir import StatePaths

from ..conftest import free_ports

TINY = "tests.chaos.runtime.process.tiny_service"
#: The binary lookup pointed at nothing: these tests never start a Prometheus.
NO_BINARY = PrometheusOptions(binary="/nonexistent/prometheus")


@dataclass
class Cli:
    """Runs `chaosbed ...` in-process against a tiny stack; remembers what it printed."""

    state_dir: Path
    services: tuple[ServiceSpec, ...]
    out: io.StringIO = field(default_factory=io.StringIO)
    err: io.StringIO = field(default_factory=io.StringIO)

    def runtime(self, choice: RuntimeChoice) -> Runtime:
        assert choice.name == "process"
        return ProcessRuntime(
            choice.state_dir,
            services=self.services,
            policy=RestartPolicy(backoff_initial_s=0.05, stop_grace_s=2.0),
            ready_timeout_s=choice.ready_timeout_s or 20.0,
            prometheus=NO_BINARY,
        )

    def __call__(self, *argv: str) -> int:
        self.out, self.err = io.StringIO(), io.StringIO()
        args = [*argv, "--state-dir", str(self.state_dir)]
        return main(args, make_runtime=self.runtime, out=self.out, err=self.err)


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    first, second = free_ports(2)
    services = (ServiceSpec("alpha", TINY, first), ServiceSpec("beta", TINY, second, ("alpha",)))
    runner = Cli(tmp_path / "state", services)
    try:
        yield runner
    finally:
        runner.runtime(RuntimeChoice("process", runner.state_dir)).down()


def test_up_starts_the_stack_and_prints_the_status_table(cli: Cli) -> None:
    assert cli("up") == 0
    lines = cli.out.getvalue().splitlines()
    assert lines[0].startswith("the stack is up (process runtime")
    assert lines[1].split() == ["SERVICE", "PORT", "PID", "STATE", "HEALTH", "RESTARTS"]
    assert [line.split()[3:5] for line in lines[2:4]] == [["running", "ready"]] * 2


def test_up_without_a_prometheus_binary_says_once_that_only_the_scrape_backend_works(
    cli: Cli,
) -> None:
    assert cli("up") == 0
    assert cli.out.getvalue().count(NO_PROMETHEUS) == 1
    assert "prometheus binary" not in cli.err.getvalue()
    assert cli("status") == 0
    assert "prometheus" not in cli.out.getvalue()


def test_status_of_a_running_stack_exits_0(cli: Cli) -> None:
    cli("up")
    assert cli("status") == 0
    assert "alpha" in cli.out.getvalue()


def test_status_json_lists_every_service(cli: Cli) -> None:
    cli("up")
    assert cli("status", "--json") == 0
    statuses = json.loads(cli.out.getvalue())
    assert [(s["name"], s["state"], s["ready"]) for s in statuses] == [
        ("alpha", "running", True),
        ("beta", "running", True),
    ]


def test_status_when_nothing_runs_says_so_and_exits_5(cli: Cli) -> None:
    assert cli("status") == 5
    assert "the stack is not running" in cli.err.getvalue()


def test_a_second_up_exits_5_saying_a_stack_is_already_running(cli: Cli) -> None:
    cli("up")
    assert cli("up") == 5
    assert "already running" in cli.err.getvalue()


def test_up_with_a_busy_port_exits_5_naming_service_and_port(cli: Cli) -> None:
    beta_port = cli.services[1].port
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", beta_port))
        listener.listen()
        assert cli("up") == 5
    assert f"port {beta_port} on 127.0.0.1, needed by beta" in cli.err.getvalue()


def test_down_stops_the_stack(cli: Cli) -> None:
    cli("up")
    assert cli("down") == 0
    assert cli.out.getvalue().startswith("the stack is down")
    assert cli("status") == 5


def test_down_with_nothing_running_says_so_and_exits_0(cli: Cli) -> None:
    assert cli("down") == 0
    assert cli.out.getvalue().startswith("nothing to stop")


def test_an_inconsistent_stack_is_invalid_input(cli: Cli) -> None:
    cli.services = (ServiceSpec("a", TINY, 1), ServiceSpec("b", TINY, 1))
    assert cli("up") == 2
    assert "port 1 is used by two services" in cli.err.getvalue()


def test_an_unknown_runtime_is_invalid_input() -> None:
    assert main(["up", "--runtime", "kubernetes"]) == 2


def test_a_timeout_that_is_not_positive_is_invalid_input() -> None:
    assert main(["up", "--timeout", "0"]) == 2


def test_no_command_is_invalid_input() -> None:
    assert main([]) == 2


def test_help_exits_0() -> None:
    assert main(["--help"]) == 0


def test_the_process_runtime_is_the_default_factory_product(tmp_path: Path) -> None:
    runtime = make_runtime(RuntimeChoice("process", tmp_path, 12.0))
    assert isinstance(runtime, ProcessRuntime) and runtime.ready_timeout_s == 12.0


def test_the_docker_runtime_is_made_with_the_build_choice(tmp_path: Path) -> None:
    runtime = make_runtime(RuntimeChoice("docker", tmp_path, None, build=True))
    assert isinstance(runtime, DockerRuntime)
    assert runtime.build and runtime.ready_timeout_s == 180.0


def test_build_with_the_process_runtime_is_invalid_input(cli: Cli) -> None:
    assert cli("up", "--build") == 2
    assert "--build applies to the docker and cluster runtimes only" in cli.err.getvalue()
    assert not (cli.state_dir / "supervisor.pid").exists()


def test_help_lists_every_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for code in ExitCode:
        if code in (ExitCode.HELD, ExitCode.INTERRUPTED):
            continue
        assert f"{int(code)} " in help_text
    assert "130/143 interrupted" in help_text


def test_a_port_base_reaches_the_runtime_and_names_the_docker_project(tmp_path: Path) -> None:
    choice = RuntimeChoice("docker", tmp_path, None, port_base=20000)
    runtime = make_runtime(choice)
    assert isinstance(runtime, DockerRuntime)
    assert runtime.compose.name == "chaosbed-20000"
    assert runtime.base_url("playback") == "http://127.0.0.1:20002"
    assert runtime.prometheus_url() == "http://127.0.0.1:20006"
    assert runtime.compose.environ["CHAOSBED_CATALOG_HOST_PORT"] == "20000"
    assert runtime.load_metrics_port() == 20007
    assert runtime.compose.environ["CHAOSBED_LOAD_TARGETS"] == str(tmp_path / "load-targets.json")
    monkey_targets = str(tmp_path / "monkey-targets.json")
    assert runtime.compose.environ["CHAOSBED_MONKEY_TARGETS"] == monkey_targets


def test_every_stack_command_finds_the_stack_from_its_port_base_or_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHAOSBED_PORT_BASE", raising=False)
    monkeypatch.delenv("CHAOSBED_STATE_DIR", raising=False)
    seen: list[RuntimeChoice] = []

    def record(choice: RuntimeChoice) -> Runtime:
        seen.append(choice)
        return make_runtime(choice)

    main(["status", "--port-base", "20000"], make_runtime=record, out=io.StringIO())
    assert seen[-1].state_dir == Path(".chaosbed/stacks/20000")
    assert seen[-1].port_base == 20000
    # an `up` with the base wrote nothing here; the environment's base picks the directory
    monkeypatch.setenv("CHAOSBED_PORT_BASE", "20010")
    main(["status"], make_runtime=record, out=io.StringIO())
    assert seen[-1].state_dir == Path(".chaosbed/stacks/20010")
    assert isinstance(runtime := make_runtime(seen[-1]), ProcessRuntime)
    assert runtime.base_url("catalog") == "http://127.0.0.1:20010"


def test_a_bad_port_base_is_invalid_input_naming_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["status", "--port-base", "80"]) == 2
    assert "--port-base" in capsys.readouterr().err
    monkeypatch.setenv("CHAOSBED_PORT_BASE", "eighty")
    assert main(["status"]) == 2
    assert "CHAOSBED_PORT_BASE" in capsys.readouterr().err


def test_every_stack_command_finds_the_runtime_that_started_the_stack_in_its_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHAOSBED_RUNTIME", raising=False)

    def runtime_of(*argv: str) -> str:
        args = build_parser().parse_args(list(argv))
        resolve_stack_options(args)
        return str(args.runtime)

    docker_state, process_state = tmp_path / "docker", tmp_path / "process"
    StackPorts.from_base(20000).write(StatePaths.at(docker_state), "docker")
    StackPorts.from_base(20010).write(StatePaths.at(process_state), "process")
    for command in ("status", "cleanup", "down", "run x.yaml", "verify", "gameday x"):
        argv = command.split()
        assert runtime_of(*argv, "--state-dir", str(docker_state)) == "docker", command
        assert runtime_of(*argv, "--state-dir", str(process_state)) == "process", command
    # what the command line or the environment says wins; a new state directory is process
    assert runtime_of("status", "--state-dir", str(docker_state), "--runtime", "process") == (
        "process"
    )
    assert runtime_of("status", "--state-dir", str(tmp_path / "new")) == "process"
    monkeypatch.setenv("CHAOSBED_RUNTIME", "process")
    assert runtime_of("status", "--state-dir", str(docker_state)) == "process"
    monkeypatch.setenv("CHAOSBED_RUNTIME", "kubernetes")
    err = io.StringIO()
    assert main(["status", "--state-dir", str(docker_state)], err=err) == 2
    assert "no runtime called 'kubernetes'" in err.getvalue()
