"""The CTK activities' fault core against the four real services on loopback: a fault
is a chaosbed method step, injected and verified by chaosbed's own driver under the
activity's tag, recorded until `remove` rolls it back; bad input injects nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chaos.ctk import faults, reads
from chaos.ctk.ledger import Entry, Ledger
from chaos.ctk.stack import ActivityError, Stack
from chaos.runtime.stack import ServiceSpec
from tests.chaos.runner.conftest import SERVICES, TOKEN, start_stack
from tests.chaos.runner.conftest import Stack as Services
from tests.chaos.runtime.standin_runtime import StandinRuntime

LATENCY = {"fault": "latency", "target": "catalog", "delay_ms": 50, "duration": "20s"}
ERRORS = {"fault": "error", "target": "catalog", "route": "/titles/{id}", "duration": "20s"}


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    started, runners = await start_stack(tmp_path)
    try:
        yield started
    finally:
        await started.session.close()
        for runner in reversed(runners):
            await runner.cleanup()


@pytest.fixture
def stack(services: Services, tmp_path: Path) -> Stack:
    specs = [ServiceSpec(name, f"services.{name}", services.ports[name]) for name in SERVICES]
    return Stack(StandinRuntime(services=specs, token=TOKEN), tmp_path / "state")


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
