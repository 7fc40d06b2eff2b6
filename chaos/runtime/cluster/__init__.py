"""Kubernetes on this machine, for the stack's manifests (docs/cluster.md).

    control_plane.py   ControlPlane: etcd, the API server, the controller manager
                       and the scheduler as local processes
    nodes.py           ClusterNodes: a node container per region (its own Docker
                       engine, a kubelet, kube-proxy; node.sh runs in it)
    cluster.py         OneMachineCluster: the control plane, the nodes, the images
                       and the stack's manifests, up and down together
    discovery.py       the Prometheus pod's sidecar: the stack's pods, listed through
                       the API, as HTTP service discovery
    runtime.py         ClusterRuntime: the stack on it behind the runtime interface
    netns.py           PodNamespaces: the pods' network namespaces, for the network faults
    helper_pods.py     HelperPods: short-lived helper pods on a node, in its network
                       namespace or a pod's, made and read through the API

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
