"""`chaosbed monkey` on a process stack with its Prometheus, under member load:

- the guard: a fault of the test's own (every catalog answer a 503) burns the
  error budget; the monkey halts within a scrape interval plus a second of the
  burn showing in Prometheus, rolls back what it holds, starts nothing while
  halted, and resumes only after the stated calm; `chaosbed monkey stop` ends
  it with nothing left;
- SIGKILL mid-pause: the paused instance is resumed by the pause's expiry once
  its TTL runs out, and nothing is left behind.

Prints the measured delays. Needs its worker's ports free and the prometheus
binary (`pytest -m "e2e and prometheus"`)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chaos.experiment import limits
from chaos.monkey.run import EXPIRY_SLACK_S
from chaos.runtime.process import ProcessRuntime
from tests.chaos.experiments import library
from tests.chaos.experiments.library import chaosbed
from tests.chaos.experiments.library_runs import process_stack

pytestmark = [pytest.mark.e2e, pytest.mark.prometheus]

state_dir = process_stack()
SCRAPE_S = limits.SCRAPE_INTERVALS["process"]


def start(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "chaos", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip


def lines(journal: Path) -> list[dict[str, Any]]:
    if not journal.exists():
        return []
    return [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]


def wait_for(journal: Path, event: str, timeout: float, count: int = 1) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in lines(journal) if line["event"] == event]
        if len(found) >= count:
            return found[count - 1]
        time.sleep(0.1)
    raise AssertionError(f"no {event!r} line within {timeout}s: {lines(journal)[-5:]}")


def wall(line: dict[str, Any]) -> float:
    return datetime.fromisoformat(line["at"]).timestamp()


async def catalog_rule(state: Path, method: str, rule_id: str = "") -> str:
    """Add (POST) the test's own 503-for-everyone rule on catalog, or remove it (DELETE)."""
    runtime = ProcessRuntime(state)
    url = f"{runtime.base_url('catalog')}/_chaos/faults"
    headers = {"Authorization": f"Bearer {runtime.control_token()}"}
    async with aiohttp.ClientSession() as session:
        if method == "POST":
            rule = {"kind": "error", "status": 503, "percent": 100, "ttl_s": 60, "route": "*",
                    "tag": "test-monkey-guard"}  # fmt: skip
            async with session.post(url, json=rule, headers=headers) as answer:
                assert answer.status in (200, 201), await answer.text()
                return str((await answer.json())["id"])
        async with session.delete(f"{url}/{rule_id}", headers=headers) as answer:
            assert answer.status == 200, await answer.text()
            return rule_id


def prometheus_value(state: Path, query: str) -> float | None:
    """The stack's Prometheus's answer now; the newest scrape may be on its way."""
    url = ProcessRuntime(state).prometheus_url()
    assert url is not None, "the stack runs no Prometheus"
    return library.prometheus_value(url, query, wait_s=3 * SCRAPE_S + 2)


def first_burn_over(state: Path, threshold: float, since: float, until: float,
                    window: str) -> float:  # fmt: skip
    """When Prometheus first showed catalog's burn over the threshold (step 0.1 s)."""
    url = ProcessRuntime(state).prometheus_url()
    query = (
        f'(sum(rate(chaosbed_http_requests_total{{service="catalog",status=~"5..|dropped",'
        f'route!~"/healthz|/readyz|/metrics|/_chaos.*"}}[{window}])) / sum(rate('
        f'chaosbed_http_requests_total{{service="catalog",route!~"/healthz|/readyz|/metrics|'
        f'/_chaos.*"}}[{window}]))) / 0.005'
    )

    async def read() -> list[list[Any]]:
        async with aiohttp.ClientSession() as session:
            params = {"query": query, "start": f"{since:.3f}", "end": f"{until:.3f}",
                      "step": "0.1"}  # fmt: skip
            async with session.get(f"{url}/api/v1/query_range", params=params) as answer:
                body = await answer.json()
        result = body["data"]["result"]
        return result[0]["values"] if result else []

    for at, value in asyncio.run(read()):
        if value != "NaN" and float(value) > threshold:
            return float(at)
    raise AssertionError("Prometheus never showed catalog's burn over the threshold")


#: Every slot: it bounds the halt within 1.5 s of the burn, and a neighbour's stall of
#: 1-2 s (every service at once, with a 2 s deadline) burns a budget on its own.
@pytest.mark.stacks(99)
def test_a_burning_budget_halts_the_monkey_at_once_and_it_resumes_only_after_the_calm(
    state_dir: Path, tmp_path: Path
) -> None:
    where = ("--state-dir", str(state_dir))
    journal = tmp_path / "monkey.jsonl"
    load = start("load", *where, "--rate", "30", "--duration", "180s", "--no-metrics",
                 "--mix", "homepage=50,title=50", "--experiment-percent", "20")  # fmt: skip
    monkey = start("monkey", *where, "--journal", str(journal), "--seed", "3", "--mean", "2s",
                   "--hold", "1500ms", "--faults", "latency=1", "--for", "170s",
                   "--budget-window", "10s", "--recover-for", "8s")  # fmt: skip
    rule_id = ""
    try:
        wait_for(journal, "rolled_back", 40)  # acting under load, nothing burning
        assert not any(line["event"] == "halted" for line in lines(journal))
        injected_at = time.time()
        rule_id = asyncio.run(catalog_rule(state_dir, "POST"))
        halted = wait_for(journal, "halted", 15)
        time.sleep(1)
        asyncio.run(catalog_rule(state_dir, "DELETE", rule_id))
        removed_at = time.time()
        rule_id = ""
        # the burn over 10 s falls back within seconds; the stack's own fast-burn alert
        # (5 min and 1 h windows over a young stack) pages for longer: both must clear
        resumed = wait_for(journal, "resumed", 120)
        wait_for(
            journal,
            "injected",
            15,
            count=sum(line["event"] == "injected" for line in lines(journal)) + 1,
        )  # acting again
        # the stack's Prometheus scrapes the monkey (job `monkey`): its actions and its
        # halt, which the dashboards draw as annotations
        actions = 'sum(chaosbed_chaos_actions_total{job="monkey",outcome="rolled_back"})'
        assert (prometheus_value(state_dir, actions) or 0) >= 1
        assert (
            prometheus_value(state_dir, 'max_over_time(chaosbed_monkey_halted{job="monkey"}[3m])')
            == 1
        )
        stop = chaosbed("monkey", "stop", *where, "--by", "the test")
        assert stop.returncode == 0, stop.stdout
        out, _ = monkey.communicate(timeout=60)
    finally:
        if rule_id:
            asyncio.run(catalog_rule(state_dir, "DELETE", rule_id))
        for process in (monkey, load):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.communicate(timeout=60)
    cleanup = chaosbed("cleanup", *where)
    assert monkey.returncode == 0, out
    assert "nothing left over" in cleanup.stdout, cleanup.stdout
    record = lines(journal)
    assert "catalog burns its error budget" in " ".join(halted["why"])
    burn_seen = first_burn_over(state_dir, 14.4, injected_at - 2, wall(halted) + 1, "10s")
    # at once: the guard reads every second, Prometheus scrapes every SCRAPE_S
    assert wall(halted) - burn_seen <= 1.0 + 0.5, (wall(halted), burn_seen)
    assert wall(halted) - injected_at <= SCRAPE_S + 1.0 + 1.5
    # what it held was rolled back, and nothing was injected until it resumed
    after_halt = record[record.index(halted) + 1 : record.index(resumed)]
    assert not [line for line in after_halt if line["event"] == "injected"]
    assert all(a in {line.get("action") for line in after_halt if line["event"] == "rolled_back"}
               for a in halted["holding"])  # fmt: skip
    assert any(line["event"] == "skipped" and line["why"].startswith("halted: ")
               for line in after_halt)  # fmt: skip
    # only after the calm: 8 s with no burn over the threshold, counted after the fault went
    assert wall(resumed) - removed_at >= 8.0
    assert record[-1]["event"] == "stopped"
    assert any(line["event"] == "stopped" for line in record)
    # its report: the actions over each service's availability from the stack's Prometheus
    page = tmp_path / "monkey.html"
    url = ProcessRuntime(state_dir).prometheus_url()
    assert url is not None
    report = chaosbed("report", str(journal), "-o", str(page), "--prometheus", url)
    assert report.returncode == 0, report.stdout
    html = page.read_text()
    assert "availability (%)" in html and "No availability drawn" not in html
    assert "catalog burns its error budget" in html  # the halt, and why
    print(
        f"halted {wall(halted) - burn_seen:.2f}s after Prometheus showed the burn "
        f"({wall(halted) - injected_at:.2f}s after the fault); resumed "
        f"{wall(resumed) - removed_at:.1f}s after the fault was removed"
    )


def test_a_monkey_killed_mid_pause_leaves_nothing_once_the_ttl_runs_out(
    state_dir: Path, tmp_path: Path
) -> None:
    where = ("--state-dir", str(state_dir))
    journal = tmp_path / "monkey.jsonl"
    hold = 8.0  # outlasts a busy machine's second or two between the injection and the kill
    monkey = start("monkey", *where, "--journal", str(journal), "--seed", "1", "--mean", "1s",
                   "--hold", f"{hold:g}s", "--faults", "pause=1", "--opt-out",
                   "profiles", "profiles-eu", "profiles-apac", "--for", "60s",
                   "--no-guardrails")  # fmt: skip
    try:
        injected = wait_for(journal, "injected", 20)
        os.kill(monkey.pid, signal.SIGKILL)
        killed_at = time.time()
        monkey.communicate(timeout=10)
    finally:
        if monkey.poll() is None:
            monkey.kill()
            monkey.communicate(timeout=10)
    chosen = next(line for line in lines(journal) if line["event"] == "chosen")
    victim = chosen["victim"]
    assert injected["expiry"] is True and chosen["fault"] == "pause"
    runtime = ProcessRuntime(state_dir)

    def state() -> str:
        return next(s.state for s in runtime.status() if s.name == victim)

    assert state() == "paused"  # the monkey is gone; its pause is not, yet
    ttl = hold + limits.RULE_TTL_MARGIN + EXPIRY_SLACK_S
    deadline = wall(injected) + ttl + 10
    while state() == "paused" and time.time() < deadline:
        time.sleep(0.2)
    resumed_at = time.time()
    assert state() != "paused", f"{victim} still paused {resumed_at - wall(injected):.1f}s on"
    assert resumed_at - wall(injected) >= ttl - 1.5  # ended by its TTL, not before
    cleanup = chaosbed("cleanup", *where)
    assert "nothing left over" in cleanup.stdout, cleanup.stdout
    (Path(state_dir) / "monkey" / "running.json").unlink(missing_ok=True)
    print(f"{victim} paused by a killed monkey resumed {resumed_at - killed_at:.1f}s after the "
          f"kill, {resumed_at - wall(injected):.1f}s after the pause (TTL {ttl:g}s)")  # fmt: skip


def test_sigterm_mid_action_rolls_it_back_before_the_monkey_exits(
    state_dir: Path, tmp_path: Path
) -> None:
    where = ("--state-dir", str(state_dir))
    journal = tmp_path / "monkey.jsonl"
    monkey = start("monkey", *where, "--journal", str(journal), "--seed", "2", "--mean", "1s",
                   "--hold", "30s", "--faults", "pause=1,error=1", "--for", "60s",
                   "--no-guardrails")  # fmt: skip
    try:
        wait_for(journal, "injected", 20)
        assert (Path(state_dir) / "monkey" / "running.json").exists()
        monkey.send_signal(signal.SIGTERM)
        out, _ = monkey.communicate(timeout=60)
    finally:
        if monkey.poll() is None:
            monkey.kill()
            monkey.communicate(timeout=10)
    events = [line["event"] for line in lines(journal)]
    assert events[-3:] == ["interrupted", "rolled_back", "stopped"], (events, out)
    assert monkey.returncode == 128 + signal.SIGTERM, out
    assert not (Path(state_dir) / "monkey" / "running.json").exists()
    cleanup = chaosbed("cleanup", *where)
    assert "nothing left over" in cleanup.stdout, cleanup.stdout
