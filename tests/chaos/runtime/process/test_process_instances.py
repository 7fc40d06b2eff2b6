"""Process-layer faults on a running tiny stack: kill, hold, stop/start, pause, restart."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chaos.runtime import (
    InstanceActionFailed,
    NotRunning,
    ProcessRuntime,
    SupervisorState,
    UnknownService,
)
from chaos.runtime.health import probe

Eventually = Callable[..., None]


def last_exit(runtime: ProcessRuntime, name: str) -> int | None:
    state = SupervisorState.read(runtime.paths.state_file)
    assert state is not None
    record = state.record(name)
    assert record is not None
    return record.last_exit


async def test_instances_list_every_service_running_with_its_pid(
    runtime: ProcessRuntime,
) -> None:
    statuses = runtime.up()
    instances = await runtime.instances()
    assert [(i.service, i.instance, i.state, i.pid) for i in instances] == [
        (s.name, s.name, "running", s.pid) for s in statuses
    ]
    assert all(i.container_id is None for i in instances)
    assert [i.instance for i in await runtime.instances("beta")] == ["beta"]


async def test_kill_sigkills_the_instance_and_the_supervisor_restarts_it(
    runtime: ProcessRuntime, eventually: Eventually
) -> None:
    runtime.up()
    killed = await runtime.kill("alpha")
    assert killed.state == "running" and killed.pid is not None

    def restarted() -> bool:
        alpha = runtime.status()[0]
        return alpha.pid not in (None, killed.pid) and alpha.ready

    eventually(restarted, what="alpha restarted with a new pid")
    assert last_exit(runtime, "alpha") == -9
    (alpha,) = [i for i in await runtime.instances("alpha")]
    assert (alpha.state, alpha.restarts) == ("running", 1)


async def test_hold_kills_the_instance_and_keeps_it_down_until_started(
    runtime: ProcessRuntime, eventually: Eventually
) -> None:
    alpha_port = runtime.services[0].port
    runtime.up()
    held = await runtime.hold("alpha")
    (alpha,) = await runtime.instances("alpha")
    assert (alpha.state, alpha.pid, alpha.detail) == ("stopped", None, "held")
    assert last_exit(runtime, "alpha") == -9
    assert not probe(alpha_port, "/healthz").ok
    assert await runtime.ready("alpha") is False
    assert await runtime.ready("beta") is True

    await runtime.start("alpha")
    eventually(lambda: runtime.status()[0].ready, what="alpha ready again")
    assert await runtime.ready("alpha") is True
    (alpha,) = await runtime.instances("alpha")
    assert alpha.state == "running" and alpha.pid not in (None, held.pid)


async def test_stop_ends_the_instance_with_sigterm_and_keeps_it_down(
    runtime: ProcessRuntime,
) -> None:
    runtime.up()
    await runtime.stop("beta")
    (beta,) = await runtime.instances("beta")
    assert (beta.state, beta.detail) == ("stopped", "held")
    assert last_exit(runtime, "beta") == 0  # the tiny service exits 0 on SIGTERM


async def test_pause_freezes_the_instance_and_unpause_resumes_it(
    runtime: ProcessRuntime,
) -> None:
    alpha_port = runtime.services[0].port
    runtime.up()
    paused = await runtime.pause("alpha")
    try:
        (alpha,) = await runtime.instances("alpha")
        assert (alpha.state, alpha.pid) == ("paused", paused.pid)
        assert not probe(alpha_port, "/healthz", timeout_s=0.3).ok
    finally:
        await runtime.unpause("alpha")
    (alpha,) = await runtime.instances("alpha")
    assert (alpha.state, alpha.pid) == ("running", paused.pid)
    assert probe(alpha_port, "/healthz").ok


async def test_restart_gives_a_new_process_without_spending_the_restart_budget(
    runtime: ProcessRuntime, eventually: Eventually
) -> None:
    runtime.up()
    before = await runtime.restart("alpha")
    eventually(lambda: runtime.status()[0].ready, what="alpha ready after the restart")
    (alpha,) = await runtime.instances("alpha")
    assert alpha.pid not in (None, before.pid)
    assert alpha.restarts == 0
    assert last_exit(runtime, "alpha") == 0


async def test_kill_and_pause_need_a_running_instance(runtime: ProcessRuntime) -> None:
    runtime.up()
    await runtime.hold("beta")
    with pytest.raises(InstanceActionFailed, match="cannot kill beta: it is held, not running"):
        await runtime.kill("beta")
    await runtime.pause("alpha")
    try:
        with pytest.raises(InstanceActionFailed, match="cannot pause alpha: it is paused"):
            await runtime.pause("alpha")
    finally:
        await runtime.unpause("alpha")


async def test_a_fault_on_an_unknown_instance_names_the_known_ones(
    runtime: ProcessRuntime,
) -> None:
    runtime.up()
    with pytest.raises(UnknownService) as unknown:
        await runtime.kill("gamma")
    assert unknown.value.exit_code == 2
    assert str(unknown.value) == "no instance called 'gamma'; the stack has: alpha, beta"


async def test_faults_while_the_stack_is_down_say_it_is_not_running(
    runtime: ProcessRuntime,
) -> None:
    with pytest.raises(NotRunning, match="the process stack is not running"):
        await runtime.instances()
    with pytest.raises(NotRunning):
        await runtime.kill("alpha")


def test_base_urls_and_the_control_token_are_those_the_services_use(
    runtime: ProcessRuntime, get_json: Callable[[int, str], dict[str, str]]
) -> None:
    runtime.up()
    alpha, beta = runtime.services
    assert runtime.base_url("beta") == f"http://127.0.0.1:{beta.port}"
    env = get_json(beta.port, "/env")
    assert env["CHAOSBED_ALPHA_URL"] == runtime.base_url("alpha")
    assert env["CHAOSBED_CONTROL_TOKEN"] == runtime.control_token()
    with pytest.raises(UnknownService, match="no service called 'gamma'"):
        runtime.base_url("gamma")
