"""The files the runtime shares between `up`, the supervisor and the chaos runner."""

import stat
from pathlib import Path

from chaos.project import PROJECT_ROOT
from chaos.runtime import RestartPolicy, ServiceRecord, ServiceSpec, StatePaths, SupervisorState
from chaos.runtime.control_token import ensure_token, read_token
from chaos.runtime.process.plan_file import Plan
from chaos.runtime.process.service_env import service_env

SPECS = (ServiceSpec("a", "mod.a", 1001), ServiceSpec("b", "mod.b", 1002, ("a",)))


def test_plan_survives_a_round_trip_through_json() -> None:
    plan = Plan.of(SPECS, RestartPolicy(max_restarts=7))
    assert Plan.from_json(plan.to_json()) == plan


def test_state_survives_a_round_trip_through_json() -> None:
    state = SupervisorState(42, [ServiceRecord("a", "mod.a", 1001, pid=7, state="running")])
    assert SupervisorState.from_json(state.to_json()) == state


def test_reading_a_missing_state_file_gives_none(tmp_path: Path) -> None:
    assert SupervisorState.read(tmp_path / "state.json") is None


def test_hold_and_release_toggle_the_hold_file(tmp_path: Path) -> None:
    paths = StatePaths.at(tmp_path)
    paths.hold("a")
    held = paths.is_held("a")
    paths.release("a")
    assert held and not paths.is_held("a")


def test_a_generated_token_is_stored_readable_only_by_the_owner(tmp_path: Path) -> None:
    paths = StatePaths.at(tmp_path)
    token = ensure_token(paths, {})
    mode = stat.S_IMODE(paths.token_file.stat().st_mode)
    assert len(token) >= 32 and mode == 0o600 and read_token(paths, {}) == token


def test_the_token_from_the_environment_wins(tmp_path: Path) -> None:
    paths = StatePaths.at(tmp_path)
    assert ensure_token(paths, {"CHAOSBED_CONTROL_TOKEN": "s3cret"}) == "s3cret"


def test_a_service_learns_its_port_and_where_every_other_service_is(tmp_path: Path) -> None:
    paths = StatePaths.at(tmp_path)
    env = service_env(SPECS[1], SPECS, paths, {"CHAOSBED_CONTROL_TOKEN": "t", "PYTHONPATH": "/x"})
    assert env["CHAOSBED_PORT"] == "1002"
    assert env["CHAOSBED_HOST"] == "127.0.0.1"
    assert env["CHAOSBED_A_URL"] == "http://127.0.0.1:1001"
    # each service its own database, named after it (a profiles replica's store)
    assert env["CHAOSBED_PROFILES_DB"] == str(tmp_path.resolve() / "data" / f"{SPECS[1].name}.db")
    assert env["CHAOSBED_CONTROL_TOKEN"] == "t"
    assert env["PYTHONPATH"].split(":") == [str(PROJECT_ROOT), "/x"]
