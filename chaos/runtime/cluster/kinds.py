"""What the cluster runtime can do to a pod's process, without importing the runtime
(the CLI's pre-run check reads it)."""

from __future__ import annotations

__all__ = ["CLUSTER_PAUSE_MAX_S", "CLUSTER_PROCESS_KINDS"]

#: The process-fault kinds the cluster runtime does (runtime.py's PodInstances).
CLUSTER_PROCESS_KINDS = ("kill", "pause", "delete")
#: The longest pause kept: the pods' liveness probe (every 5 s, 3 failures) has the
#: kubelet replace a frozen container after about 15 s.
CLUSTER_PAUSE_MAX_S = 10.0
