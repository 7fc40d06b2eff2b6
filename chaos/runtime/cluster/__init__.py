"""Kubernetes on this machine, for the stack's manifests (docs/cluster.md).

    control_plane.py   ControlPlane: etcd, the API server, the controller manager
                       and the scheduler as local processes on loopback

The manifests themselves are generated from the topology by cluster/generate.py;
the binaries are built by cluster/kubernetes/build.sh.
"""

from .control_plane import (
    ControlPlane,
    ControlPlaneFailed,
    ControlPlanePorts,
    kubernetes_bin,
)

__all__ = ["ControlPlane", "ControlPlaneFailed", "ControlPlanePorts", "kubernetes_bin"]
