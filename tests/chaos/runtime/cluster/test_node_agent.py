"""The node agent, a real aiohttp app on a loopback port: what it answers about a
made-up /proc, and what it refuses. Its pods on real nodes, reached through the
API server's proxy: tests/cluster/test_stack_on_cluster.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from chaos.runtime.cluster.node_agent import MAX_CONTAINERS, MAX_PIDS, make_app
from tests.chaos.runtime.cluster.test_pod_processes import fake_process

NODE = "a" * 64
CONTAINER = "b" * 64
OTHER = "c" * 64
UID = "0c2f3e1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    path = f"1:pids:/docker/{NODE}/kubepods/besteffort/pod{UID}/{CONTAINER}\n"
    fake_process(tmp_path, 40, f"1:pids:/docker/{NODE}\n", "40")  # the node's own
    fake_process(tmp_path, 75, path, "75 10 1", state="T")  # the main process, stopped
    fake_process(tmp_path, 77, path, "77 12 3")
    (tmp_path / "75" / "stat").write_text("75 (python) T 60 75 75 0 -1")
    (tmp_path / "75" / "cmdline").write_text("python\0-m\0services.catalog\0")
    fake_process(tmp_path, 80, path, "80 14 5", state="Z")
    (tmp_path / "80" / "stat").write_text("80 (sh) Z 75 80 75 0 -1")
    return tmp_path


async def test_it_answers_each_asked_container_s_processes_and_the_pods_with_any(
    aiohttp_client: Any, proc: Path
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(make_app(proc, "chaosbed-us"))
    answer = await client.get("/processes", params=[("container", CONTAINER), ("container", OTHER)])
    assert answer.status == 200
    assert await answer.json() == {
        "node": "chaosbed-us",
        "containers": {CONTAINER: {"pids": [75, 77, 80], "main": 75, "stopped": True}},
        "pods": [UID],  # OTHER has no process here: left out
        "running": {},
    }
    none = await (await client.get("/processes")).json()
    assert none["containers"] == {} and none["pods"] == [UID]


async def test_it_says_which_asked_pids_still_run_and_what_each_is(
    aiohttp_client: Any, proc: Path
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(make_app(proc, "chaosbed-us"))
    asked = [("pid", "75"), ("pid", "80"), ("pid", "99")]  # running, a zombie, gone
    answer = await (await client.get("/processes", params=asked)).json()
    assert answer["running"] == {
        "75": "75 (state T, parent 60, 'python -m services.catalog', "
        f"cgroup /docker/{NODE}/kubepods/besteffort/pod{UID}/{CONTAINER})"
    }
    assert answer["containers"] == {}
    for bad in ("0", "-1", "x", "1.5", "１２", "1" * 11):
        refused = await client.get("/processes", params={"pid": bad})
        assert refused.status == 400 and "not a pid" in await refused.text(), bad
    many = [("pid", "75")] * (MAX_PIDS + 1)
    refused = await client.get("/processes", params=many)
    assert refused.status == 400 and f"at most {MAX_PIDS}" in await refused.text()
    both = [("container", CONTAINER)] * MAX_CONTAINERS + [("pid", "4194304")] * MAX_PIDS
    assert (await client.get("/processes", params=both)).status == 200  # the most fit


async def test_it_refuses_what_is_not_a_container_id_and_too_many_ids(
    aiohttp_client: Any, proc: Path
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(make_app(proc))
    for bad in ("", "B" * 64, CONTAINER[:63], f"{CONTAINER}\n", "../" + CONTAINER[3:]):
        answer = await client.get("/processes", params={"container": bad})
        assert answer.status == 400, bad
        assert "not a container id" in await answer.text()
    many = [("container", CONTAINER)] * (MAX_CONTAINERS + 1)
    answer = await client.get("/processes", params=many)
    assert answer.status == 400
    assert f"at most {MAX_CONTAINERS}" in await answer.text()


async def test_health_says_whether_proc_can_be_read(
    aiohttp_client: Any, proc: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert (await (await aiohttp_client(make_app(proc))).get("/healthz")).status == 200
    empty = tmp_path_factory.mktemp("empty")
    answer = await (await aiohttp_client(make_app(empty))).get("/healthz")
    assert answer.status == 503 and "cannot be read" in await answer.text()
