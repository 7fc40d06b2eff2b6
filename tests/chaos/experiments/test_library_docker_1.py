"""Share 1 of 2 of the shipped library, run by `chaosbed run --runtime docker` against
the compose stack: every experiment ends with the verdict its hypothesis predicts and
leaves nothing behind (tests/chaos/experiments/library_runs.py says why it is dealt to
two files); and `chaosbed monkey` on the same stack. Needs a Docker engine (`pytest -m
docker`); the images are built from this tree first (compose/build-images.sh, once per
test session), so the stack runs the code under test, never images left from an older
build."""

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chaos.runtime.docker import DockerRuntime

from .library import chaosbed
from .library_runs import docker_stack, library_test

pytestmark = pytest.mark.docker

state_dir = docker_stack()
test_the_experiment_ends_with_its_predicted_verdict = library_test("docker", 1)


def prometheus_value(state: Path, query: str) -> float | None:
    async def read() -> Any:
        url = DockerRuntime(state).prometheus_url()
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/api/v1/query", params={"query": query}) as answer:
                return (await answer.json())["data"]["result"]

    result = asyncio.run(read())
    return float(result[0]["value"][1]) if result else None


def test_the_monkey_command_acts_on_the_compose_stack_and_its_prometheus_sees_it(
    state_dir: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "monkey.jsonl"
    where = ("--runtime", "docker", "--state-dir", str(state_dir))
    started = time.time()
    done = chaosbed("monkey", *where, "--journal", str(journal), "--seed", "5", "--mean", "3s",
                    "--hold", "2s", "--faults", "kill=1,pause=1,restart=1", "--for", "40s",
                    timeout=180)  # fmt: skip
    cleanup = chaosbed("cleanup", *where)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "nothing left over" in cleanup.stdout, cleanup.stdout
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    injected = {line["action"] for line in lines if line["event"] == "injected"}
    rolled_back = {line["action"] for line in lines if line["event"] == "rolled_back"}
    assert len(injected) >= 4 and injected == rolled_back, (injected, rolled_back)
    victims = {line["victim"] for line in lines if line["event"] == "chosen"}
    assert victims and not victims & {"recommendations", "playback"}, victims  # they opt out
    # Prometheus (in compose) scraped it on the host, through host-gateway
    span = f"{int(time.time() - started) + 5}s"
    assert prometheus_value(state_dir, f'max_over_time(up{{job="monkey"}}[{span}])') == 1
    seen = prometheus_value(
        state_dir,
        f'sum(max_over_time(chaosbed_chaos_actions_total{{job="monkey",outcome="injected"}}[{span}]))',
    )
    assert seen is not None and 1 <= seen <= len(injected), seen
    # every container is back (killed ones restarted, paused ones resumed)
    deadline = time.monotonic() + 90
    while not all(s.ready for s in DockerRuntime(state_dir).status()):
        assert time.monotonic() < deadline, DockerRuntime(state_dir).status()
        time.sleep(1)
