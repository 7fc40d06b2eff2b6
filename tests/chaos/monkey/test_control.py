"""The running monkey's endpoint on loopback: status and metrics for anyone; pause,
resume and stop only with the stack's control token; `call_running` finds the
endpoint from the state directory and says plainly when no monkey answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from chaos.monkey.control import ControlError, call_running, control_app, write_running
from chaos.monkey.journal import MonkeyJournal
from chaos.monkey.notify import MonkeyMetrics
from chaos.monkey.run import Monkey, MonkeyConfig
from chaos.monkey.schedule import Menu, MenuItem
from tests.chaos.runner.scripted import Driver

TOKEN = "s3cret"


async def test_the_endpoint_pauses_resumes_and_stops_a_running_monkey(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    journal = MonkeyJournal(tmp_path / "j.jsonl")
    metrics = MonkeyMetrics()
    journal.listeners.append(metrics)
    config = MonkeyConfig(seed=1, mean_s=0.02, min_s=0.01, opted_in=("catalog",),
                          menu=Menu((MenuItem("kill", 1, 30.0),)))  # fmt: skip

    async def health() -> dict[str, bool]:
        return {"catalog": True}

    monkey = Monkey(config, drivers=[Driver()], health=health,
                    takes={"catalog": frozenset({"kill"})}, journal=journal)  # fmt: skip
    stop = asyncio.Event()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    identity = {"monkey": "monkey-1", "pid": 1, "url": url}
    runner = web.AppRunner(control_app(monkey, metrics, TOKEN, stop, identity))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    write_running(tmp_path, identity)
    task = asyncio.create_task(monkey.run(stop))
    try:
        async with asyncio.timeout(10):
            while not any(line["event"] == "injected" for line in journal.lines):
                await asyncio.sleep(0.01)
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/pause") as refused:
                assert refused.status == 401
            async with session.post(f"{url}/stop", headers={"Authorization": "Bearer nope"}) as r:
                assert r.status == 401
            async with session.get(f"{url}/metrics") as page:
                assert "chaosbed_chaos_active_faults" in await page.text()
        assert not monkey.paused_by and not stop.is_set()
        paused = await call_running(tmp_path, "pause", TOKEN, "alice")
        assert paused["state"] == "paused" and paused["changed"] and paused["active"] == []
        # the action interrupted and rolled back before the answer; the loop's turns
        # meanwhile only skip (paused): one may land after the rollback, before this look
        since_pause = [line["event"] for line in journal.lines]
        since_pause = since_pause[len(since_pause) - since_pause[::-1].index("paused") :]
        assert "rolled_back" in since_pause, since_pause
        assert set(since_pause) <= {"interrupted", "rolled_back", "skipped"}, since_pause
        status = await call_running(tmp_path, "status", None, "")
        assert status["monkey"] == "monkey-1" and status["paused_by"] == "alice"
        resumed = await call_running(tmp_path, "resume", TOKEN, "alice")
        assert resumed["state"] == "running"
        await call_running(tmp_path, "stop", TOKEN, "alice")
        async with asyncio.timeout(10):
            await task
        assert journal.lines[-1]["event"] == "stopped"
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
        await runner.cleanup()


async def test_no_running_monkey_is_said_plainly(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    with pytest.raises(ControlError, match="no monkey runs on this stack"):
        await call_running(tmp_path, "status", None, "")
    write_running(tmp_path, {"url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(ControlError, match="no monkey answers at .*expire by their TTL"):
        await call_running(tmp_path, "pause", TOKEN, "alice", timeout_s=2)
