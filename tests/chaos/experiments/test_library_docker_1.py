"""Share 1 of 2 of the shipped library as the suite plays it on docker (`played_by_suite`
in library.py), run by `chaosbed run --runtime docker` against the compose stack: every
experiment ends with the verdict its hypothesis predicts and leaves nothing behind
(tests/chaos/experiments/library_runs.py says why it is dealt to two files); and the
compose `chaos` profile's monkey on the same stack. Needs a Docker engine (`pytest -m
docker`); the images are built from this tree first (compose/build-images.sh, once per
test session), so the stack runs the code under test, never images left from an older
build."""

import asyncio
import json
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from chaos.runtime.control_token import TOKEN_VARIABLE
from chaos.runtime.docker import DockerRuntime
from chaos.runtime.docker.compose_project import ComposeProject

from . import library
from .library import chaosbed
from .library_runs import docker_stack, library_test

pytestmark = pytest.mark.docker

state_dir = docker_stack()
test_the_experiment_ends_with_its_predicted_verdict = library_test("docker", 1)


def prometheus_value(state: Path, query: str) -> float | None:
    return library.prometheus_value(DockerRuntime(state).prometheus_url(), query)


def monkey_status(state: Path) -> dict[str, Any] | None:
    url = f"http://127.0.0.1:{DockerRuntime(state).ports.monkey}/status"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return dict(json.loads(answer.read()))
    except OSError:
        return None


def partitioned(state: Path) -> bool:
    """Whether the monkey has injected and verified a partition (its /metrics)."""
    url = f"http://127.0.0.1:{DockerRuntime(state).ports.monkey}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            text = answer.read().decode()
    except OSError:
        return False
    return bool(re.search(r'chaosbed_chaos_actions_total\{[^}]*kind="partition"[^}]*'
                          r'outcome="injected"[^}]*\} [1-9]', text))  # fmt: skip


def test_the_chaos_profile_runs_a_monkey_whose_actions_prometheus_sees_and_stop_rolls_back(
    state_dir: Path,
) -> None:
    """`docker compose --profile chaos up` brings `chaosbed monkey` in a container of its
    own: it acts on this stack, compose's Prometheus scrapes it on the host, and
    `docker compose stop` (SIGTERM) ends it with everything rolled back."""
    runtime = DockerRuntime(state_dir)
    token = runtime.control_token()
    assert token is not None
    # every kind it has on docker, a partition the likeliest
    faults = "kill=1,pause=1,restart=1,latency=1,error=1,partition=3"
    environ = {**runtime.environ, TOKEN_VARIABLE: token, "CHAOSBED_MONKEY_MEAN": "3s",
               "CHAOSBED_MONKEY_HOLD": "3s", "CHAOSBED_MONKEY_FAULTS": faults}  # fmt: skip
    compose = ComposeProject(runtime.compose.file, runtime.compose.name, environ)
    started = time.time()
    compose.run("--profile", "chaos", "up", "-d", "--no-deps", "monkey", timeout_s=120)
    try:
        deadline = time.monotonic() + 90
        while (monkey_status(state_dir) or {}).get("actions", 0) < 4 or not partitioned(state_dir):
            assert time.monotonic() < deadline, monkey_status(state_dir)
            time.sleep(1)
        status = monkey_status(state_dir)
        assert status is not None and status["stack"] == runtime.compose.name, status
    finally:
        compose.run("--profile", "chaos", "stop", "monkey", timeout_s=120)
    logs = compose.run("--profile", "chaos", "logs", "--no-color", "monkey", timeout_s=60)
    cleanup = chaosbed("cleanup", "--runtime", "docker", "--state-dir", str(state_dir))
    summary = re.search(r"(\d+) actions injected, (\d+) rolled back, \d+ could not be injected, "
                        r"(\d+) not rolled back", logs)  # fmt: skip
    assert summary is not None, logs[-2000:]
    injected, rolled_back, not_rolled_back = (int(n) for n in summary.groups())
    # one cut short by the stop mid-injection is rolled back too, never injected
    assert injected >= 3 and rolled_back >= injected and not_rolled_back == 0, summary.group(0)
    assert "nothing left over" in cleanup.stdout, cleanup.stdout
    # Prometheus (in compose) scraped it on the host, through host-gateway
    span = f"{int(time.time() - started) + 5}s"
    assert prometheus_value(state_dir, f'max_over_time(up{{job="monkey"}}[{span}])') == 1
    actions = f'chaosbed_chaos_actions_total{{job="monkey",outcome="injected"}}[{span}]'
    seen = prometheus_value(state_dir, f"sum(max_over_time({actions}))")
    assert seen is not None and 1 <= seen <= injected, seen
    # every container is back (killed ones restarted, paused ones resumed)
    deadline = time.monotonic() + 90
    while not all(s.ready for s in DockerRuntime(state_dir).status()):
        assert time.monotonic() < deadline, DockerRuntime(state_dir).status()
        time.sleep(1)


def test_a_compose_monkey_killed_outright_mid_pause_leaves_nothing_after_the_ttl(
    state_dir: Path,
) -> None:
    """SIGKILL (`docker compose kill`, which Docker does not restart) rolls nothing back:
    the pause ends by the helper container the engine runs for its TTL (hold 10 s + 5 s
    + 10 s of slack), which outlives the monkey's container. The hold outlasts what a
    busy machine takes between seeing the pause and the kill (`docker compose kill`)."""
    runtime = DockerRuntime(state_dir)
    token = runtime.control_token()
    assert token is not None
    environ = {**runtime.environ, TOKEN_VARIABLE: token, "CHAOSBED_MONKEY_MEAN": "1s",
               "CHAOSBED_MONKEY_HOLD": "10s", "CHAOSBED_MONKEY_FAULTS": "pause=1"}  # fmt: skip
    compose = ComposeProject(runtime.compose.file, runtime.compose.name, environ)
    compose.run("--profile", "chaos", "up", "-d", "--no-deps", "monkey", timeout_s=120)
    try:
        deadline = time.monotonic() + 60
        while not (paused := [i for i in asyncio.run(runtime.instances()) if i.state == "paused"]):
            assert time.monotonic() < deadline, monkey_status(state_dir)
            time.sleep(0.2)
    finally:
        compose.run("--profile", "chaos", "kill", "monkey", timeout_s=60)  # SIGKILL
    killed = time.monotonic()
    # the pause outlived the monkey, and only the engine's helper is left to end it
    held = [i for i in asyncio.run(runtime.instances()) if i.state == "paused"]
    assert held, "the monkey rolled its pause back before the kill: nothing was shown"
    assert asyncio.run(runtime.network.helpers()), "no helper is left to end the pause"
    ps = compose.run("--profile", "chaos", "ps", "-a", "--format", "json", "monkey", timeout_s=60)
    assert '"exited"' in ps.lower(), ps  # not restarted: nothing rolls back but the TTL
    deadline = killed + 10 + 5 + 10 + 20
    while any(i.state == "paused" for i in asyncio.run(runtime.instances())):
        assert time.monotonic() < deadline, [i.instance for i in paused]
        time.sleep(0.5)
    while asyncio.run(runtime.network.helpers()):  # the helper goes once it has acted
        assert time.monotonic() < deadline, asyncio.run(runtime.network.helpers())
        time.sleep(0.5)
    cleanup = chaosbed("cleanup", "--runtime", "docker", "--state-dir", str(state_dir))
    assert "nothing left over" in cleanup.stdout, cleanup.stdout
