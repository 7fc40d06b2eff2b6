"""A deploy on a running tiny stack: an instance restarted with a release (variables over
its own environment), which the supervisor keeps across crashes until it is deployed
away; and the deploy fault's inject, verify, effect and rollback on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

import aiohttp
import pytest

from chaos.cli.cleanup import clean
from chaos.experiment.model import ProcessFault, Step
from chaos.faults import Injection, NoEffect
from chaos.faults.control_client import ControlClient
from chaos.faults.process import ProcessFaultDriver
from chaos.runner.wiring import leftovers
from chaos.runtime import ProcessRuntime

Eventually = Callable[..., None]
GetJson = Callable[[int, str], Any]
RELEASE = {"CHAOSBED_MUTANT": "partial-sync-tv"}
DEPLOY = Step("release", ProcessFault("deploy", "alpha", env=tuple(RELEASE.items())), 0.0, 5.0)


def port_of(runtime: ProcessRuntime, name: str) -> int:
    return next(spec.port for spec in runtime.services if spec.name == name)


async def test_deploy_restarts_the_instance_with_the_release_over_its_own_environment(
    runtime: ProcessRuntime, get_json: GetJson
) -> None:
    runtime.up()
    alpha_port = port_of(runtime, "alpha")
    (beta_before,) = await runtime.instances("beta")
    before = await runtime.deploy("alpha", RELEASE)
    while not await runtime.ready("alpha"):
        await asyncio.sleep(0.05)
    (alpha,) = await runtime.instances("alpha")
    assert alpha.pid not in (None, before.pid)
    assert alpha.release == (("CHAOSBED_MUTANT", "partial-sync-tv"),)
    env = get_json(alpha_port, "/env")
    assert env["CHAOSBED_MUTANT"] == "partial-sync-tv"
    assert env["CHAOSBED_PORT"] == str(alpha_port)  # its own environment is kept
    (beta,) = await runtime.instances("beta")
    assert (beta.pid, beta.release) == (beta_before.pid, ())
    assert "CHAOSBED_MUTANT" not in get_json(port_of(runtime, "beta"), "/env")


async def test_a_release_survives_a_crash_of_the_instance(
    runtime: ProcessRuntime, get_json: GetJson, eventually: Eventually
) -> None:
    runtime.up()
    await runtime.deploy("alpha", RELEASE)
    eventually(lambda: runtime.status()[0].ready, what="alpha ready on the release")
    killed = await runtime.kill("alpha")
    eventually(
        lambda: runtime.status()[0].pid not in (None, killed.pid) and runtime.status()[0].ready,
        what="alpha restarted by the supervisor",
    )
    assert get_json(port_of(runtime, "alpha"), "/env")["CHAOSBED_MUTANT"] == "partial-sync-tv"


async def test_a_deploy_of_no_variables_restarts_it_on_its_own_environment(
    runtime: ProcessRuntime, get_json: GetJson, eventually: Eventually
) -> None:
    runtime.up()
    await runtime.deploy("alpha", RELEASE)
    eventually(lambda: runtime.status()[0].ready, what="alpha ready on the release")
    on_release = runtime.status()[0].pid
    await runtime.deploy("alpha", {})
    eventually(
        lambda: runtime.status()[0].pid not in (None, on_release) and runtime.status()[0].ready,
        what="alpha restarted again",
    )
    assert "CHAOSBED_MUTANT" not in get_json(port_of(runtime, "alpha"), "/env")
    (alpha,) = await runtime.instances("alpha")
    assert alpha.release == ()
    assert runtime.paths.releases() == {}


async def test_a_new_stack_starts_on_its_own_release(
    runtime: ProcessRuntime, get_json: GetJson
) -> None:
    runtime.up()
    await runtime.deploy("alpha", RELEASE)
    runtime.down()
    runtime.up()
    assert "CHAOSBED_MUTANT" not in get_json(port_of(runtime, "alpha"), "/env")
    assert [i.release for i in await runtime.instances()] == [(), ()]


async def test_cleanup_restarts_an_instance_a_run_left_on_a_release(
    runtime: ProcessRuntime, get_json: GetJson, eventually: Eventually
) -> None:
    runtime.up()
    await runtime.deploy("alpha", RELEASE)
    eventually(lambda: runtime.status()[0].ready, what="alpha ready on the release")
    removed, _ = await clean(runtime)  # (the tiny services have no control API to clean)
    assert removed == [
        "alpha: restarted instance alpha without the release a run deployed "
        "(CHAOSBED_MUTANT=partial-sync-tv)"
    ]
    assert [i.release for i in await runtime.instances()] == [(), ()]
    assert "CHAOSBED_MUTANT" not in get_json(port_of(runtime, "alpha"), "/env")


async def test_preflight_finds_an_instance_left_on_a_release(runtime: ProcessRuntime) -> None:
    runtime.up()
    await runtime.deploy("alpha", RELEASE)
    async with aiohttp.ClientSession() as session:
        found = await leftovers(runtime, ControlClient({}, "", session))
    assert found == ["alpha: instance alpha runs release CHAOSBED_MUTANT=partial-sync-tv"]


# -- the deploy fault's driver on it --------------------------------------------------


async def test_the_deploy_fault_is_verified_on_the_new_process_and_rolled_back_to_the_old_release(
    runtime: ProcessRuntime, get_json: GetJson
) -> None:
    runtime.up()
    driver = ProcessFaultDriver(runtime, ready_timeout=20.0)
    injection = Injection("release", "process", "deploy")
    await driver.inject(DEPLOY, injection, ttl=5.0)
    await driver.verify(DEPLOY, injection)
    assert injection.verification.startswith(
        "release CHAOSBED_MUTANT=partial-sync-tv runs on alpha/alpha (pid "
    )
    assert get_json(port_of(runtime, "alpha"), "/env")["CHAOSBED_MUTANT"] == "partial-sync-tv"
    await driver.confirm_effect(DEPLOY, injection, cast(Any, None), since=0.0)
    assert injection.effect.startswith("release CHAOSBED_MUTANT=partial-sync-tv ran through")
    await driver.rollback(DEPLOY, injection)
    assert injection.rollback == "alpha restarted with the release it had (its own) and ready"
    assert "CHAOSBED_MUTANT" not in get_json(port_of(runtime, "alpha"), "/env")
    assert runtime.paths.releases() == {}


async def test_a_release_replaced_during_the_step_is_no_effect(runtime: ProcessRuntime) -> None:
    runtime.up()
    driver = ProcessFaultDriver(runtime, ready_timeout=20.0)
    injection = Injection("release", "process", "deploy")
    await driver.inject(DEPLOY, injection, ttl=5.0)
    await driver.verify(DEPLOY, injection)
    await runtime.deploy("alpha", {})  # someone else deployed over it
    with pytest.raises(NoEffect, match="no longer runs on alpha"):
        await driver.confirm_effect(DEPLOY, injection, cast(Any, None), since=0.0)
    await driver.rollback(DEPLOY, injection)


async def test_an_interrupted_deploy_is_rolled_back_to_the_own_environment(
    runtime: ProcessRuntime, get_json: GetJson
) -> None:
    runtime.up()
    driver = ProcessFaultDriver(runtime, ready_timeout=20.0)
    injection = Injection("release", "process", "deploy")
    injecting = asyncio.create_task(driver.inject(DEPLOY, injection, ttl=5.0))
    while not runtime.paths.releases():  # the release is recorded: the deploy is under way
        await asyncio.sleep(0.01)
    injecting.cancel()  # Ctrl-C mid-deploy
    with pytest.raises(asyncio.CancelledError):
        await injecting
    await driver.rollback(DEPLOY, injection)  # what the runner does on every exit path
    assert await runtime.ready("alpha")
    assert "CHAOSBED_MUTANT" not in get_json(port_of(runtime, "alpha"), "/env")
    assert [i.release for i in await runtime.instances()] == [(), ()]
