"""The CTK activities' fault core against the four real services on loopback: a fault
is a chaosbed method step, injected and verified by chaosbed's own driver under the
activity's tag, recorded until `remove` rolls it back; bad input injects nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from chaos.ctk import actions, faults, reads
from chaos.ctk.ledger import Entry, Ledger, LedgerError
from chaos.ctk.stack import ActivityError, Stack
from chaos.runtime.stack import ServiceSpec
from tests.chaos.runner.conftest import TOKEN
from tests.chaos.runner.conftest import Stack as Services
from tests.chaos.runtime.standin_runtime import StandinRuntime

LATENCY = {"fault": "latency", "target": "catalog", "delay_ms": 50, "duration": "20s"}
ERRORS = {"fault": "error", "target": "catalog", "route": "/titles/{id}", "duration": "20s"}


async def tagged(services: Services) -> dict[str, list[str]]:
    """Each service's rules' tags, where it has any."""
    listed = await services.rules()
    return {name: [str(r["tag"]) for r in rules] for name, rules in listed.items() if rules}


async def test_a_step_is_injected_verified_and_recorded_under_its_tag(
    stack: Stack, services: Services
) -> None:
    done = await faults.inject(stack, LATENCY, "game-day-1")

    (rule,) = (await services.rules())["catalog"]
    assert str(rule["tag"]).startswith("chaosbed-run-ctk-game-day-1/")
    assert rule["ttl_s"] == 25.0  # the step's duration + 5 s: it ends by itself
    assert done["layer"] == "application" and done["tag"] == "game-day-1"
    assert done["verified"] == f"rule {rule['id']} listed by catalog"
    assert done["ends_by_itself_in_s"] == 25.0
    (entry,) = Ledger(stack.state_dir).entries("game-day-1")
    assert entry.handle["rule_id"] == rule["id"] and entry.step == LATENCY


@pytest.mark.parametrize(
    ("step", "named"),
    [
        ({"fault": "latency", "target": "catalog", "duration": "5s"}, "step.delay_ms: is required"),
        ({"fault": "error", "target": "nowhere", "duration": "5s"}, "step.target"),
        ({"fault": "error", "target": "catalog", "percent": 0, "duration": "5s"}, "step.percent"),
        ({"fault": "error", "target": "catalog"}, "step.duration: is required"),
        ({"fault": "flood", "target": "catalog", "duration": "5s"}, "step.fault"),
        ({"fault": "error", "edge": "catalog -> playback", "duration": "5s"}, "step.edge"),
    ],
)
async def test_an_invalid_step_is_refused_naming_the_field_and_injects_nothing(
    stack: Stack, services: Services, step: dict[str, object], named: str
) -> None:
    with pytest.raises(ActivityError, match="invalid step") as refused:
        await faults.inject(stack, step, "t")

    assert named in str(refused.value)
    assert await tagged(services) == {}
    assert Ledger(stack.state_dir).entries() == []


async def test_a_tag_that_cannot_name_rules_is_refused_before_anything(
    stack: Stack, services: Services
) -> None:
    for bad in ("has space", "a/b", "x" * 41):
        with pytest.raises(ActivityError, match="letters, digits"):
            await faults.inject(stack, LATENCY, bad)
    assert await tagged(services) == {}


async def test_removing_a_tag_rolls_back_its_faults_and_no_other(
    stack: Stack, services: Services
) -> None:
    await faults.inject(stack, LATENCY, "mine")
    await faults.inject(stack, ERRORS, "mine")
    await faults.inject(stack, {**LATENCY, "target": "profiles"}, "theirs")

    removed = await faults.remove(stack, "mine")

    assert len(removed["rolled_back"]) == 2 and removed["rules_removed"] == 0
    assert all("removed from catalog" in how for how in removed["rolled_back"])
    (left,) = (await tagged(services))["profiles"]
    assert left.startswith("chaosbed-run-ctk-theirs/")
    assert [e.tag for e in Ledger(stack.state_dir).entries()] == ["theirs"]


async def test_removing_every_tag_also_sweeps_rules_the_ledger_lost(
    stack: Stack, services: Services
) -> None:
    await faults.inject(stack, LATENCY, "a")
    await faults.inject(stack, ERRORS, "")  # untagged
    Ledger(stack.state_dir).path.unlink()  # as if the record never landed

    removed = await faults.remove(stack, None)

    assert removed == {"rolled_back": [], "rules_removed": 2}
    assert await tagged(services) == {}


async def test_a_rule_of_a_run_is_not_the_activities_to_remove(
    stack: Stack, services: Services
) -> None:
    run_rule = {"kind": "error", "route": "*", "tag": "chaosbed-run-20261205-abc/s", "ttl_s": 30}
    await services.control().add("catalog", run_rule)

    await faults.remove(stack, None)

    assert await tagged(services) == {"catalog": ["chaosbed-run-20261205-abc/s"]}


async def test_the_rules_are_read_with_the_requests_they_matched(
    stack: Stack, services: Services
) -> None:
    await faults.inject(stack, ERRORS, "count")
    for title in range(1, 4):
        async with services.session.get(f"{services.url('catalog')}/titles/{title}") as answer:
            assert answer.status == 503

    (rule,) = await reads.rules(stack.runtime, "count")

    assert rule["service"] == "catalog" and rule["matched"] == 3
    assert await reads.rules(stack.runtime, "other") == []


async def test_cleanup_finds_what_the_activities_left(stack: Stack, services: Services) -> None:
    await faults.inject(stack, LATENCY, "left")

    found = await reads.leftovers(stack.runtime)

    assert found == ["catalog: fault rules tagged chaosbed-run-ctk-left/" + found[0].split("/")[1]]
    await faults.remove(stack, "left")
    assert await reads.leftovers(stack.runtime) == []


async def test_a_rule_that_vanished_before_its_removal_is_rolled_back_as_expired(
    stack: Stack, services: Services
) -> None:
    done = await faults.inject(stack, LATENCY, "gone")
    await services.control().remove("catalog", done["handle"]["rule_id"])

    removed = await faults.remove(stack, "gone")

    rule_id = done["handle"]["rule_id"]
    assert removed["rolled_back"] == [f"{done['fault']}: rule {rule_id} had expired"]
    assert Ledger(stack.state_dir).entries() == []


def test_entries_added_from_many_threads_at_once_are_all_kept(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)

    async def add_all() -> None:
        entries = [Entry(f"id{i}", "t", {"fault": "kill"}, "process", "") for i in range(40)]
        await asyncio.gather(*(asyncio.to_thread(ledger.add, e) for e in entries))

    asyncio.run(add_all())

    assert sorted(e.id for e in ledger.entries()) == sorted(f"id{i}" for i in range(40))


async def test_faults_without_a_tag_and_a_tag_named_like_them_stay_apart(
    stack: Stack, services: Services
) -> None:
    await faults.inject(stack, LATENCY, "")
    await faults.inject(stack, ERRORS, "none")
    with pytest.raises(ActivityError, match="starting with a letter or digit"):
        await faults.inject(stack, LATENCY, "_none")

    await faults.remove(stack, "")

    (left,) = (await tagged(services))["catalog"]
    assert left.startswith("chaosbed-run-ctk-none/")


async def test_a_service_that_cannot_be_reached_fails_the_removal_after_the_others(
    stack: Stack, services: Services, free_port: Callable[[], int]
) -> None:
    await faults.inject(stack, LATENCY, "t")
    await faults.inject(stack, {**LATENCY, "target": "profiles"}, "t")
    Ledger(stack.state_dir).path.unlink()  # only the sweep can find them
    ghost = ServiceSpec("ghost", "services.ghost", free_port())
    runtime = StandinRuntime(services=[*stack.runtime.services, ghost], token=TOKEN)

    with pytest.raises(ActivityError, match="ghost: control API unreachable"):
        await faults.remove(Stack(runtime, stack.state_dir), "t")

    assert await tagged(services) == {}  # every reachable service was swept


async def test_counting_the_requests_of_rules_that_are_not_there_fails(
    stack: Stack, services: Services
) -> None:
    with pytest.raises(ActivityError, match="no rule under tag t is in place"):
        await reads.matched(stack.runtime, "t")
    await faults.inject(stack, ERRORS, "t")

    assert await reads.matched(stack.runtime, "t") == 0  # in place, and matched nothing yet


async def hanging_control_api(
    port: int, rules: list[dict[str, Any]], answer: asyncio.Event
) -> web.AppRunner:
    """A real, minimal fault control API that keeps a rule it is asked to add and
    answers only once `answer` is set (an activity cancelled meanwhile never learns
    its id)."""

    async def add(request: web.Request) -> web.Response:
        rules.append({**await request.json(), "id": f"r{len(rules)}", "matched": 0})
        await answer.wait()
        return web.json_response(rules[-1], status=201)

    async def listed(request: web.Request) -> web.Response:
        tag = request.query.get("tag")
        return web.json_response({"faults": [r for r in rules if tag in (None, r["tag"])]})

    async def remove_tagged(request: web.Request) -> web.Response:
        tag = request.query["tag"]
        before = len(rules)
        rules[:] = [r for r in rules if r["tag"] != tag]
        return web.json_response({"removed": before - len(rules)})

    app = web.Application()
    app.router.add_post("/_chaos/faults", add)
    app.router.add_get("/_chaos/faults", listed)
    app.router.add_delete("/_chaos/faults", remove_tagged)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def test_an_inject_cancelled_mid_way_rolls_back_what_landed(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    port, rules, answer = free_port(), list[dict[str, Any]](), asyncio.Event()
    runner = await hanging_control_api(port, rules, answer)
    runtime = StandinRuntime(services=[ServiceSpec("catalog", "x", port)], token=TOKEN)
    stack = Stack(runtime, tmp_path / "state")
    try:
        injecting = asyncio.create_task(faults.inject(stack, LATENCY, "cut"))
        while not rules:  # the rule has landed; its answer has not
            await asyncio.sleep(0.01)
        injecting.cancel()

        with pytest.raises(asyncio.CancelledError):
            await injecting

        assert rules == []  # removed by its tag: its id never came back
        assert Ledger(stack.state_dir).entries() == []
    finally:
        answer.set()
        await runner.cleanup()


def test_an_entry_removed_while_its_inject_was_in_flight_is_written_again(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path)
    entry = Entry("e1", "t", {"fault": "kill"}, "process", "kill")
    ledger.add(entry)
    ledger.remove("e1")  # a remove_faults beside the inject

    entry.state = "injected"
    ledger.update(entry)

    assert [(e.id, e.state) for e in ledger.entries()] == [("e1", "injected")]


def test_an_unreadable_record_is_an_error_naming_the_file(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.path.write_text("{not json")

    with pytest.raises(LedgerError, match="ctk-faults.json: unreadable"):
        ledger.entries()
    assert ledger.clear() == -1 and not ledger.path.exists()


@pytest.mark.parametrize(
    ("action", "arguments"),
    [
        ("partition", {"side_a": ["playback"], "side_b": ["profiles"], "duration_s": 20}),
        (
            "partition",
            {
                "side_a": ["recommendations"],
                "side_b": ["catalog"],
                "duration_s": 20,
                "one_way": True,
            },
        ),  # fmt: skip
        ("isolate_service", {"service": "catalog", "duration_s": 20}),
        ("add_packet_loss", {"percent": 30, "target": "catalog", "duration_s": 20}),
        ("limit_bandwidth", {"rate_kbit": 256, "edge": "playback -> catalog", "duration_s": 20}),
    ],
)
def test_each_typed_network_action_writes_a_step_the_loader_accepts(
    tmp_path: Path, action: str, arguments: dict[str, Any]
) -> None:
    """Valid, the step reaches the stack (here: none runs, so no control token); the
    network driver of the docker runtime injects it (the same one `chaosbed run` uses)."""
    configuration = {"chaosbed_state_dir": str(tmp_path), "chaosbed_runtime": "process"}
    with pytest.raises(ActivityError, match="no token"):
        getattr(actions, action)(**arguments, configuration=configuration)


@pytest.mark.parametrize(
    ("action", "arguments", "field"),
    [
        (
            "partition",
            {"side_a": ["playback"], "side_b": ["nowhere"], "duration_s": 20},
            "between[1][0]",
        ),
        ("add_packet_loss", {"percent": 150, "target": "catalog", "duration_s": 20}, "percent"),
        ("limit_bandwidth", {"rate_kbit": 0, "target": "catalog", "duration_s": 20}, "rate_kbit"),
        ("isolate_service", {"service": "catalog", "duration_s": 0}, "duration"),
    ],
)
def test_a_typed_network_action_with_a_bad_argument_is_refused_naming_it(
    tmp_path: Path, action: str, arguments: dict[str, Any], field: str
) -> None:
    configuration = {"chaosbed_state_dir": str(tmp_path), "chaosbed_runtime": "process"}
    with pytest.raises(ActivityError, match="invalid step") as refused:
        getattr(actions, action)(**arguments, configuration=configuration)
    assert field in str(refused.value)
