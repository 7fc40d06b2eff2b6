"""What every runtime offers (the process runtime here, the docker runtime in docker.py)."""

from __future__ import annotations

from typing import Protocol

from .spec import ServiceStatus

__all__ = ["Runtime"]


class Runtime(Protocol):
    def up(self) -> list[ServiceStatus]:
        """Start the stack; return once every service is ready. Raises RuntimeFailure."""
        ...

    def down(self) -> bool:
        """Stop everything `up` started; False when nothing was running."""
        ...

    def status(self) -> list[ServiceStatus]:
        """How each service is doing, in start order."""
        ...
