"""What the cluster runtime can do to a pod's process, without importing the runtime
(the CLI's pre-run check reads it)."""

from __future__ import annotations

__all__ = ["CLUSTER_PROCESS_KINDS"]

#: The process-fault kinds the cluster runtime does (runtime.py's PodInstances).
CLUSTER_PROCESS_KINDS = ("kill", "pause")
