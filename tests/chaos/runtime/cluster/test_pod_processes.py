"""A pod's container's processes: the /proc reading on made-up trees, and the
helper's scripts (kill, pause held and resumed, resume) run by a real shell on
this machine against a real container (marker `docker`): the machine sees a
container's processes as a helper with `hostPID` sees a node's. On real nodes:
tests/cluster/test_stack_on_cluster.py."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chaos.runtime.cluster.pod_processes import (
    container_ids,
    kill_script,
    pause_script,
    resume_script,
    scan,
)
from tests.compose.compose_support import require_docker_images

NODE = "a" * 64
CONTAINER = "b" * 64
UID = "0c2f3e1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"


def fake_process(proc: Path, pid: int, cgroup: str, nspid: str, state: str = "S") -> None:
    entry = proc / str(pid)
    entry.mkdir(parents=True)
    (entry / "cgroup").write_text(cgroup)
    (entry / "status").write_text(f"Name:\tx\nState:\t{state} (x)\nNSpid:\t{nspid}\n")


def test_container_ids_are_the_64_hex_components_of_any_runtime_s_cgroup_path() -> None:
    nested = f"4:freezer:/docker/{NODE}/kubepods/besteffort/pod{UID}/{CONTAINER}\n"
    assert container_ids(nested) == {NODE, CONTAINER}
    systemd = f"0::/system.slice/docker-{CONTAINER}.scope\n"
    assert container_ids(systemd) == {CONTAINER}
    containerd = f"0::/kubepods.slice/x.slice/cri-containerd-{CONTAINER}.scope\n"
    assert container_ids(containerd) == {CONTAINER}
    assert container_ids(f"0::/docker/{CONTAINER[:63]}\n") == set()  # not an id
    assert container_ids(f"0::/docker/{CONTAINER}0\n") == set()


def test_a_scan_finds_each_container_s_main_process_and_whether_it_is_stopped(
    tmp_path: Path,
) -> None:
    path = f"1:pids:/docker/{NODE}/kubepods/besteffort/pod{UID}/{CONTAINER}\n"
    fake_process(tmp_path, 40, f"1:pids:/docker/{NODE}\n", "40")  # the node's own
    fake_process(tmp_path, 77, path, "77 12 3")  # a child of the container's
    fake_process(tmp_path, 75, path, "75 10 1", state="T")  # its main process, stopped
    (tmp_path / "self").mkdir()
    found = scan({CONTAINER, "c" * 64}, tmp_path)
    assert set(found.containers) == {CONTAINER}  # one with no process is left out
    assert found.containers[CONTAINER].pids == (75, 77)
    assert found.containers[CONTAINER].main == 75
    assert found.containers[CONTAINER].stopped
    assert found.pods == {UID}


def test_a_container_whose_main_process_is_not_seen_has_none(tmp_path: Path) -> None:
    fake_process(tmp_path, 9, f"0::/docker/{CONTAINER}\n", "9 4")
    (found,) = scan({CONTAINER}, tmp_path).containers.values()
    assert found.main is None and not found.stopped and found.pids == (9,)


def test_a_script_refuses_what_is_not_a_container_id() -> None:
    for bad in ("", "abc", "b" * 12, "x" * 64, f"{CONTAINER}\n", f"{CONTAINER}; reboot"):
        with pytest.raises(ValueError, match="not a container id"):
            kill_script(bad)


# -- the scripts against a real container (docker) --


@pytest.fixture
def container() -> Iterator[str]:
    require_docker_images()
    started = subprocess.run(
        ["docker", "run", "-d", "--rm", "--entrypoint", "sh", "chaosbed/service:latest",
         "-c", "sleep 300 & wait"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    ident = started.stdout.strip()
    try:
        yield ident
    finally:
        subprocess.run(["docker", "rm", "-f", ident], capture_output=True, timeout=60, check=False)


def until(check: Callable[[], bool], what: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not {what} within {timeout_s}s"
        time.sleep(0.05)


def states(ident: str) -> dict[int, str]:
    found = scan({ident}).containers[ident]
    result = {}
    for pid in found.pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                result[pid] = line.split()[1]
    return result


@pytest.mark.docker
def test_the_kill_script_ends_the_container_s_main_process_and_prints_its_pid(
    container: str,
) -> None:
    main = scan({container}).containers[container].main
    assert main is not None and len(states(container)) == 2  # sh and its sleep
    done = subprocess.run(
        ["sh", "-c", kill_script(container)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(main)]
    until(lambda: container not in scan({container}).containers, "every process gone")
    gone = subprocess.run(["sh", "-c", kill_script(container)], capture_output=True, text=True)
    assert gone.returncode == 3
    assert f"no process of the container {container} runs on this node" in gone.stderr


@pytest.mark.docker
def test_a_pause_stops_every_process_and_resumes_them_when_its_helper_is_stopped(
    container: str, tmp_path: Path
) -> None:
    mark = tmp_path / "paused"
    with subprocess.Popen(
        ["sh", "-c", pause_script(container, hold_s=60, mark=str(mark))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as helper:  # fmt: skip
        try:
            until(mark.exists, "marked paused")  # what its readiness probe looks for
            assert set(states(container).values()) == {"T"}
            assert scan({container}).containers[container].stopped
            time.sleep(0.5)
            assert set(states(container).values()) == {"T"}  # held
            helper.send_signal(signal.SIGTERM)  # its pod deleted
            out, err = helper.communicate(timeout=10)  # its sleep ended too: no pipe held
        finally:
            helper.kill()
    assert helper.returncode == 0, err
    assert out.startswith("stopped ")
    assert "T" not in states(container).values()
    assert not scan({container}).containers[container].stopped


@pytest.mark.docker
def test_a_pause_ends_by_itself_when_its_hold_is_over(container: str, tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        ["sh", "-c", pause_script(container, hold_s=1, mark=str(tmp_path / "paused"))],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= 1
    assert "T" not in states(container).values()


@pytest.mark.docker
def test_the_resume_script_resumes_a_stopped_container_and_says_so(container: str) -> None:
    for pid in states(container):
        subprocess.run(["kill", "-STOP", str(pid)], check=True)
    until(lambda: set(states(container).values()) == {"T"}, "stopped")
    done = subprocess.run(
        ["sh", "-c", resume_script(container)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("resumed ")
    assert "T" not in states(container).values()


@pytest.mark.docker
def test_a_resume_leaves_alone_a_pid_no_longer_in_the_container(
    container: str, tmp_path: Path
) -> None:
    """A pause's pids, one of them since reused by a process outside the container
    (stopped by someone else): resuming the container leaves that one stopped."""
    with subprocess.Popen(["sleep", "60"]) as outsider:
        try:
            subprocess.run(["kill", "-STOP", str(outsider.pid)], check=True)
            script = resume_script(container).replace(
                "pids=$(find_pids)", f'pids="$(find_pids) {outsider.pid}"'
            )
            done = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            status = Path(f"/proc/{outsider.pid}/status").read_text()
            assert "State:\tT" in status
        finally:
            outsider.kill()
