"""What `chaos discover chaosbed` reports: chaosbed's CTK actions and probes."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

__all__ = ["ACTIONS", "PROBES", "discovery"]

ACTIONS = "chaos.ctk.actions"
PROBES = "chaos.ctk.probes"


def discovery(discover_system: bool = True) -> dict[str, Any]:
    """CTK's discovery document (chaoslib builds it: it runs inside `chaos discover`)."""
    from chaoslib.discovery.discover import (
        discover_actions,
        discover_probes,
        initialize_discovery_result,
    )

    found: dict[str, Any] = initialize_discovery_result("chaosbed", _version(), "chaosbed")
    found["activities"].extend(discover_actions(ACTIONS))
    found["activities"].extend(discover_probes(PROBES))
    if discover_system:
        found["system"] = {"python": platform.python_version()}
    return found


def _version() -> str:
    try:
        return metadata.version("chaosbed")
    except metadata.PackageNotFoundError:  # run from a source tree
        return "unknown"
