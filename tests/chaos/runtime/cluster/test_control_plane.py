"""The control plane's own failures, without Kubernetes binaries (the control plane
itself runs in tests/cluster/test_manifests_on_kubernetes.py)."""

from __future__ import annotations

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
