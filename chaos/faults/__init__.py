"""Fault drivers: each layer's inject, verify and rollback.

`app` (the services' control API), `process` (the runtime's process
operations) and `network` (the docker runtime's iptables/tc, or an
application-layer stand-in). The runner drives them through `FaultDriver`.
"""

from .base import FaultDriver, Injection
from .errors import FaultError, InjectionFailed, NoEffect, NotVerified, RollbackFailed

__all__ = [
    "FaultDriver",
    "FaultError",
    "Injection",
    "InjectionFailed",
    "NoEffect",
    "NotVerified",
    "RollbackFailed",
]
