"""chaosbed's chaos runner and its commands (`chaosbed`, chaos.cli).

`discover` is for the Chaos Toolkit: `chaos discover chaosbed` calls it and lists
chaosbed's activities (chaos.ctk, docs/ctk.md).
"""

from typing import Any


def discover(discover_system: bool = True) -> dict[str, Any]:
    """The Chaos Toolkit discovery of chaosbed's actions and probes."""
    from chaos.ctk.discovery import discovery

    return discovery(discover_system)
