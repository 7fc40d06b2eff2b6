"""What the monkey announces: metrics that follow its journal line by line, and a
webhook that a receiver on loopback gets in order, whose failures are counted and
never stop the monkey."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import generate_latest

from chaos.monkey.journal import MonkeyJournal
from chaos.monkey.notify import MonkeyMetrics, Webhook


def value(metrics: MonkeyMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_the_metrics_count_each_action_and_hold_the_active_series_while_it_lasts(
    tmp_path: Path,
) -> None:
    journal = MonkeyJournal(tmp_path / "j.jsonl")
    metrics = MonkeyMetrics()
    journal.listeners.append(metrics)
    journal.write("chosen", action=1, victim="catalog", fault="kill")
    journal.write("injected", action=1)
    assert value(metrics, "chaosbed_chaos_active_faults", kind="kill", target="catalog") == 1
    assert value(metrics, "chaosbed_chaos_actions_total", kind="kill", target="catalog",
                 outcome="injected") == 1  # fmt: skip
    journal.write("rolled_back", action=1)
    assert value(metrics, "chaosbed_chaos_active_faults", kind="kill", target="catalog") == 0
    journal.write("chosen", action=2, victim="profiles", fault="pause")
    journal.write("failed", action=2, why="no running instance")
    journal.write("rolled_back", action=2)
    assert value(metrics, "chaosbed_chaos_actions_total", kind="pause", target="profiles",
                 outcome="failed") == 1  # fmt: skip
    assert value(metrics, "chaosbed_chaos_active_faults", kind="pause", target="profiles") is None
    journal.write("halted", why=["x"])
    assert value(metrics, "chaosbed_monkey_halted") == 1
    journal.write("resumed")
    journal.write("paused", by="alice")
    assert value(metrics, "chaosbed_monkey_halted") == 0
    assert value(metrics, "chaosbed_monkey_paused") == 1
    assert b"chaosbed_chaos_actions_total" in generate_latest(metrics.registry)


def test_a_listener_that_raises_never_stops_the_journal(tmp_path: Path) -> None:
    journal = MonkeyJournal(tmp_path / "j.jsonl")

    def broken(line: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    journal.listeners.append(broken)
    journal.write("started")
    journal.write("stopped")
    assert [line["event"] for line in journal.lines] == ["started", "stopped"]


async def test_the_webhook_posts_every_announcing_line_in_order_and_counts_refusals(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    received: list[dict[str, Any]] = []
    refuse = {"from": 3}

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=500 if len(received) >= refuse["from"] else 204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        journal = MonkeyJournal(tmp_path / "j.jsonl")
        metrics = MonkeyMetrics()
        webhook = Webhook(f"http://127.0.0.1:{port}/hook", monkey="monkey-1", stack="chaosbed",
                          metrics=metrics)  # fmt: skip
        journal.listeners += [metrics, webhook]
        async with aiohttp.ClientSession() as session:
            delivering = asyncio.create_task(webhook.deliver(session))
            journal.write("started", seed=1)
            journal.write("skipped", why="outside the window")  # not announced
            journal.write("chosen", action=1, victim="catalog", fault="kill")
            journal.write("injected", action=1)
            journal.write("rolled_back", action=1)
            await webhook.close(delivering)
    finally:
        await runner.cleanup()
    assert [r["event"] for r in received] == ["started", "chosen", "injected", "rolled_back"]
    first = received[0]
    assert first["source"] == "chaosbed-monkey" and first["monkey"] == "monkey-1"
    assert first["stack"] == "chaosbed" and first["line"]["seed"] == 1
    assert received[1]["line"]["victim"] == "catalog"
    assert webhook.sent == 2
    assert value(metrics, "chaosbed_monkey_webhook_failures_total") == 2


async def test_a_webhook_nobody_answers_is_counted_and_closing_still_returns(
    free_port: Callable[[], int],
) -> None:
    metrics = MonkeyMetrics()
    webhook = Webhook(f"http://127.0.0.1:{free_port()}/", monkey="m", stack="s",
                      metrics=metrics, timeout_s=1.0)  # fmt: skip
    async with aiohttp.ClientSession() as session:
        delivering = asyncio.create_task(webhook.deliver(session))
        webhook({"event": "started"})
        webhook({"event": "stopped"})
        await webhook.close(delivering, timeout_s=5)
    assert value(metrics, "chaosbed_monkey_webhook_failures_total") == 2
