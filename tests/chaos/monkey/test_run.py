"""The monkey's loop with a scripted fault driver: every action chosen, injected,
verified, held and rolled back, in the journal line by line; a stop or a
cancellation mid-action still rolls back; closed windows and unhealthy services
are skipped, and say why."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from chaos.experiment import limits
from chaos.experiment.model import Step
from chaos.faults.base import Injection
from chaos.monkey.guardrails import Guard, GuardReading, GuardSettings
from chaos.monkey.journal import MonkeyJournal
from chaos.monkey.run import EXPIRY_SLACK_S, ArmExpiry, Monkey, MonkeyConfig
from chaos.monkey.schedule import Menu, MenuItem, parse_window
from tests.chaos.runner.scripted import Driver

MENU = Menu((MenuItem("kill", 1, 0.05),))
TAKES = {"catalog": frozenset({"kill"}), "playback": frozenset({"kill"})}


def monkey(tmp_path: Path, driver: Driver, *, healthy: bool = True, window: str = "always",
           wall: float = 0.0) -> tuple[Monkey, MonkeyJournal]:  # fmt: skip
    journal = MonkeyJournal(tmp_path / "monkey.jsonl")
    config = MonkeyConfig(seed=5, mean_s=0.02, min_s=0.01, menu=MENU,
                          opted_in=tuple(TAKES), window=parse_window(window))  # fmt: skip

    async def health() -> dict[str, bool]:
        return dict.fromkeys(TAKES, healthy)

    return Monkey(config, drivers=[driver], health=health, takes=TAKES, journal=journal,
                  wall=lambda: wall), journal  # fmt: skip


async def run_until(m: Monkey, journal: MonkeyJournal, event: str, count: int) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(m.run(stop))
    async with asyncio.timeout(10):
        while sum(line["event"] == event for line in journal.lines) < count:
            await asyncio.sleep(0.01)
    stop.set()
    await task


async def test_every_action_is_chosen_injected_verified_and_rolled_back_in_the_journal(
    tmp_path: Path,
) -> None:
    driver = Driver()
    m, journal = monkey(tmp_path, driver)
    await run_until(m, journal, "rolled_back", 3)
    events = [line["event"] for line in journal.lines]
    assert events[0] == "started" and events[-1] == "stopped"
    actions = [e for e in events if e in ("chosen", "injected", "rolled_back")]
    assert actions[:9] == ["chosen", "injected", "rolled_back"] * 3
    chosen = [line for line in journal.lines if line["event"] == "chosen"]
    assert all(c["victim"] in ("catalog", "playback") and c["candidates"] for c in chosen)
    assert driver.called[:4] == ["inject", "verify", "rollback", "inject"]
    assert journal.path is not None
    written = [json.loads(line) for line in journal.path.read_text().splitlines()]
    assert written == journal.lines  # flushed line by line


async def test_a_stop_or_a_cancellation_mid_action_still_rolls_back(tmp_path: Path) -> None:
    slow = Menu((MenuItem("kill", 1, 30.0),))
    driver = Driver()
    m, journal = monkey(tmp_path, driver)
    m.config = MonkeyConfig(**{**m.config.__dict__, "menu": slow})
    task = asyncio.create_task(m.run(asyncio.Event()))
    async with asyncio.timeout(5):
        while not any(line["event"] == "injected" for line in journal.lines):
            await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert driver.rolled_back is not None
    events = [line["event"] for line in journal.lines]
    assert events[-3:] == ["interrupted", "rolled_back", "stopped"]


async def test_a_closed_window_or_no_healthy_service_skips_and_says_why(tmp_path: Path) -> None:
    saturday_noon = 1765022400.0  # 2025-12-06T12:00Z
    driver = Driver()
    m, journal = monkey(tmp_path / "w", driver, window="mon-fri 09:00-17:00 UTC",
                        wall=saturday_noon)  # fmt: skip
    await run_until(m, journal, "skipped", 3)
    assert driver.called == []
    assert "outside the window mon,tue,wed,thu,fri 09:00-17:00 UTC" in journal.lines[1]["why"]
    m, journal = monkey(tmp_path / "h", driver, healthy=False)
    await run_until(m, journal, "skipped", 2)
    assert driver.called == [] and "no opted-in service is healthy" in journal.lines[1]["why"]


class Readings:
    """The guard's readings, as the test sets them (a stand-in for Prometheus)."""

    def __init__(self) -> None:
        self.now = GuardReading(burns={"catalog": 0.0})

    async def __call__(self) -> GuardReading:
        return self.now


def guarded(tmp_path: Path, driver: Driver, readings: Readings,
            menu: Menu = MENU) -> tuple[Monkey, MonkeyJournal]:  # fmt: skip
    journal = MonkeyJournal(tmp_path / "monkey.jsonl")
    config = MonkeyConfig(seed=5, mean_s=0.02, min_s=0.01, menu=menu, opted_in=tuple(TAKES))
    settings = GuardSettings(max_burn=10.0, recover_for_s=0.3, interval_s=0.02)

    async def health() -> dict[str, bool]:
        return dict.fromkeys(TAKES, True)

    return Monkey(config, drivers=[driver], health=health, takes=TAKES, journal=journal,
                  guard=(Guard(settings), readings)), journal  # fmt: skip


async def wait_for(journal: MonkeyJournal, event: str, count: int = 1) -> None:
    async with asyncio.timeout(10):
        while sum(line["event"] == event for line in journal.lines) < count:
            await asyncio.sleep(0.005)


async def test_a_burning_budget_halts_rolls_back_at_once_and_resumes_after_the_calm(
    tmp_path: Path,
) -> None:
    driver = Driver()
    readings = Readings()
    m, journal = guarded(tmp_path, driver, readings, Menu((MenuItem("kill", 1, 30.0),)))
    stop = asyncio.Event()
    task = asyncio.create_task(m.run(stop))
    await wait_for(journal, "injected")
    readings.now = GuardReading(burns={"catalog": 25.0})
    await wait_for(journal, "halted")
    await wait_for(journal, "rolled_back")  # the 30 s action, rolled back by the halt
    halted = next(line for line in journal.lines if line["event"] == "halted")
    assert halted["why"] == ["catalog burns its error budget 25.0x over 60s (at most 10x)"]
    assert halted["holding"] == [1]
    assert m.status()["state"] == "halted"
    await asyncio.sleep(0.2)  # halted: every turn is skipped, nothing is injected
    assert sum(line["event"] == "injected" for line in journal.lines) == 1
    skipped = [line for line in journal.lines if line["event"] == "skipped"]
    assert skipped and all(line["why"].startswith("halted: catalog burns") for line in skipped)
    readings.now = GuardReading(burns={"catalog": 1.0})
    await wait_for(journal, "resumed")
    resumed = next(line for line in journal.lines if line["event"] == "resumed")
    assert resumed["t"] - halted["t"] >= 0.3
    await wait_for(journal, "injected", 2)  # acting again
    stop.set()
    await task
    assert journal.lines[-1]["event"] == "stopped"


async def test_a_pause_by_hand_rolls_back_now_and_lasts_until_resume(tmp_path: Path) -> None:
    driver = Driver()
    m, journal = guarded(tmp_path, driver, Readings(), Menu((MenuItem("kill", 1, 30.0),)))
    stop = asyncio.Event()
    task = asyncio.create_task(m.run(stop))
    await wait_for(journal, "injected")
    assert await m.pause("alice") is True
    assert await m.pause("bob") is False  # already
    events = [line["event"] for line in journal.lines]
    assert events[events.index("paused") :][:3] == ["paused", "interrupted", "rolled_back"]
    assert m.status()["state"] == "paused" and m.status()["paused_by"] == "alice"
    await asyncio.sleep(0.15)
    assert sum(line["event"] == "injected" for line in journal.lines) == 1
    assert m.resume("alice") is True and m.resume("alice") is False
    await wait_for(journal, "injected", 2)
    stop.set()
    await task


class Pausing(Driver):
    """A scripted driver whose fault holds instances, as a pause does."""

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None:
        injection.handle["instances"] = [{"ident": "catalog-1"}]
        await super().inject(step, injection, ttl)


async def test_a_pause_arms_its_expiry_and_a_rollback_disarms_it(tmp_path: Path) -> None:
    armed: list[tuple[str, float]] = []
    disarmed: list[int] = []

    async def arm(service: str, ttl: float) -> Callable[[], Awaitable[None]]:
        armed.append((service, ttl))

        async def disarm() -> None:
            disarmed.append(len(armed))

        return disarm

    for fails in (False, True):
        armed.clear()
        disarmed.clear()
        journal = MonkeyJournal(tmp_path / f"{fails}.jsonl")
        config = MonkeyConfig(seed=5, mean_s=0.02, min_s=0.01, opted_in=("catalog",),
                              menu=Menu((MenuItem("pause", 1, 0.05),)))  # fmt: skip

        async def health() -> dict[str, bool]:
            return {"catalog": True}

        m = Monkey(config, drivers=[Pausing(rollback_fails=fails)], health=health,
                   takes={"catalog": frozenset({"pause"})}, journal=journal,
                   arm_expiry=arm)  # fmt: skip
        await run_until(m, journal, "rollback_failed" if fails else "rolled_back", 1)
        assert armed[0] == ("catalog", 0.05 + limits.RULE_TTL_MARGIN + EXPIRY_SLACK_S)
        # rolled back: each expiry is disarmed; a failed rollback leaves it to end the pause
        rolled_back = sum(line["event"] == "rolled_back" for line in journal.lines)
        assert len(disarmed) == rolled_back and rolled_back == (0 if fails else len(armed))


def pausing_monkey(tmp_path: Path, arm: ArmExpiry) -> tuple[Monkey, MonkeyJournal]:
    journal = MonkeyJournal(tmp_path / "pausing.jsonl")
    config = MonkeyConfig(seed=5, mean_s=0.02, min_s=0.01, opted_in=("catalog",),
                          menu=Menu((MenuItem("pause", 1, 0.05),)))  # fmt: skip

    async def health() -> dict[str, bool]:
        return {"catalog": True}

    return Monkey(config, drivers=[Pausing()], health=health,
                  takes={"catalog": frozenset({"pause"})}, journal=journal,
                  arm_expiry=arm), journal  # fmt: skip


async def test_an_expiry_armed_while_the_monkey_stops_is_disarmed_and_nothing_paused(
    tmp_path: Path,
) -> None:
    """Stopped while its expiry is being armed: the arm lands (a helper the engine
    runs would), is disarmed, and no pause is injected."""
    disarmed: list[str] = []
    arming = asyncio.Event()

    async def arm(service: str, ttl: float) -> Callable[[], Awaitable[None]]:
        arming.set()
        await asyncio.sleep(0.2)  # the engine starting a helper

        async def disarm() -> None:
            disarmed.append(service)

        return disarm

    m, journal = pausing_monkey(tmp_path, arm)
    stop = asyncio.Event()
    task = asyncio.create_task(m.run(stop))
    await asyncio.wait_for(arming.wait(), 5)
    stop.set()
    await task
    events = [line["event"] for line in journal.lines]
    assert disarmed == ["catalog"], events
    assert "injected" not in events and "interrupted" in events


async def test_an_expiry_that_cannot_be_disarmed_is_said_in_the_journal(tmp_path: Path) -> None:
    async def arm(service: str, ttl: float) -> Callable[[], Awaitable[None]]:
        async def disarm() -> None:
            raise RuntimeError("the engine refused")

        return disarm

    m, journal = pausing_monkey(tmp_path, arm)
    await run_until(m, journal, "expiry_left", 1)
    (left,) = [line for line in journal.lines if line["event"] == "expiry_left"][:1]
    assert "the engine refused" in left["why"]
    events = [line["event"] for line in journal.lines]
    assert events.index("rolled_back") < events.index("expiry_left")


async def test_a_guard_that_raises_or_never_answers_lets_no_action_start(tmp_path: Path) -> None:
    async def raises() -> GuardReading:
        raise RuntimeError("a malformed answer")

    async def hangs() -> GuardReading:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    for name, read in (("raises", raises), ("hangs", hangs)):
        driver = Driver()
        journal = MonkeyJournal(tmp_path / f"{name}.jsonl")
        config = MonkeyConfig(seed=5, mean_s=0.02, min_s=0.01, menu=MENU, opted_in=tuple(TAKES),
                              fresh_s=0.1)  # fmt: skip

        async def health() -> dict[str, bool]:
            return dict.fromkeys(TAKES, True)

        settings = GuardSettings(interval_s=0.02)
        m = Monkey(config, drivers=[driver], health=health, takes=TAKES, journal=journal,
                   guard=(Guard(settings), read))  # fmt: skip
        await run_until(m, journal, "skipped", 5)
        assert driver.called == [], name
        whys = {line["why"] for line in journal.lines if line["event"] == "skipped"}
        if name == "raises":
            assert whys == {"halted: the guard cannot read Prometheus: reading failed: "
                            "RuntimeError('a malformed answer')"}  # fmt: skip
        else:
            assert whys == {"halted: no fresh reading from the guard"}


async def test_a_victim_holds_one_action_at_a_time(tmp_path: Path) -> None:
    driver = Driver()
    journal = MonkeyJournal(tmp_path / "j.jsonl")
    config = MonkeyConfig(seed=5, mean_s=0.02, min_s=0.01, opted_in=("catalog",), max_at_once=3,
                          menu=Menu((MenuItem("kill", 1, 30.0),)))  # fmt: skip

    async def health() -> dict[str, bool]:
        return {"catalog": True}

    m = Monkey(config, drivers=[driver], health=health, takes={"catalog": frozenset({"kill"})},
               journal=journal)  # fmt: skip
    await run_until(m, journal, "skipped", 3)
    assert sum(line["event"] == "chosen" for line in journal.lines) == 1
    skipped = next(line for line in journal.lines if line["event"] == "skipped")
    assert skipped["why"] == "no opted-in service is healthy and free"
    assert skipped["held"] == ["catalog"]
