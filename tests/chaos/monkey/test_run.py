"""The monkey's loop with a scripted fault driver: every action chosen, injected,
verified, held and rolled back, in the journal line by line; a stop or a
cancellation mid-action still rolls back; closed windows and unhealthy services
are skipped, and say why."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from chaos.monkey.journal import MonkeyJournal
from chaos.monkey.run import Monkey, MonkeyConfig
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
