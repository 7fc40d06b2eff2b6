"""The control plane's own failures, without Kubernetes binaries (the control plane
itself runs in tests/cluster/test_manifests_on_kubernetes.py)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaos.runtime.cluster.control_plane import (
    ControlPlane,
    ControlPlaneFailed,
    ControlPlanePorts,
    kubernetes_bin,
)


def test_missing_binaries_are_named_with_how_to_build_them(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "kubectl").write_text("")
    plane = ControlPlane(tmp_path / "bin", tmp_path / "work", ControlPlanePorts(1, 2, 3))

    with pytest.raises(ControlPlaneFailed) as failed:
        plane.start()

    message = str(failed.value)
    assert "kube-apiserver, kube-controller-manager, kube-scheduler" in message
    assert "kubectl" not in message.split("(")[1].split(")")[0]
    assert "cluster/kubernetes/build.sh" in message
    assert not (tmp_path / "work").exists()  # nothing started, nothing written
    assert failed.value.exit_code == 5


def test_the_binaries_are_found_where_the_variable_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAOSBED_KUBERNETES_BIN", str(tmp_path))
    assert kubernetes_bin() == tmp_path
    monkeypatch.setenv("CHAOSBED_KUBERNETES_BIN", " ")
    assert kubernetes_bin().parts[-4:] == ("chaosbed", "kubernetes", "v1.20.2", "bin")


def started(argv: list[str]) -> subprocess.Popen[bytes]:
    """`argv` in a session of its own, once /proc shows its command line (just after
    the exec it is briefly empty)."""
    process = subprocess.Popen(argv, start_new_session=True)
    deadline = time.monotonic() + 5
    while not Path(f"/proc/{process.pid}/cmdline").read_bytes() and time.monotonic() < deadline:
        time.sleep(0.001)
    return process


def test_a_later_process_stops_the_components_it_finds_recorded(tmp_path: Path) -> None:
    # what `chaosbed down` does for the control plane `chaosbed up` started and left
    sleep = shutil.which("sleep")
    assert sleep is not None
    component = started([sleep, "60"])
    plane = ControlPlane(tmp_path / "bin", tmp_path / "work", ControlPlanePorts(1, 2, 3))
    plane.work_dir.mkdir()
    plane.pid_file.write_text(json.dumps([["kube-scheduler", component.pid, sleep]]))
    assert plane.running() == ["kube-scheduler"]

    plane.stop()

    assert component.wait(timeout=5) == -signal.SIGTERM
    assert not plane.work_dir.exists()


def test_a_recorded_pid_that_now_runs_something_else_is_left_alone(tmp_path: Path) -> None:
    bystander = started([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        plane = ControlPlane(tmp_path / "bin", tmp_path / "work", ControlPlanePorts(1, 2, 3))
        plane.work_dir.mkdir()
        recorded = [["etcd", bystander.pid, "/usr/bin/etcd"]]  # the pid was reused
        plane.pid_file.write_text(json.dumps(recorded))
        assert plane.running() == []

        plane.stop()

        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
