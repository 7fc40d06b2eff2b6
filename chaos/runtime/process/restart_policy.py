"""The supervisor's restart policy: exponential backoff, and a limit after which it gives up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["RestartPolicy"]


@dataclass(frozen=True)
class RestartPolicy:
    """When and how often a service that exited is started again.

    After an exit the service waits `backoff_initial_s`, doubling with each
    consecutive failure up to `backoff_max_s`; a run that lasted
    `stable_after_s` or more resets the doubling. A service that has already
    been restarted `max_restarts` times within the last `window_s` seconds and
    exits again is marked failed. `stop_grace_s` is how long a service may
    take to exit after SIGTERM before it gets SIGKILL.
    """

    backoff_initial_s: float = 0.2
    backoff_max_s: float = 5.0
    max_restarts: int = 10
    window_s: float = 60.0
    stable_after_s: float = 10.0
    stop_grace_s: float = 5.0

    def backoff_s(self, consecutive_failures: int) -> float:
        """The wait before restart number `consecutive_failures` (1 for the first)."""
        exponent = max(consecutive_failures - 1, 0)
        return min(self.backoff_initial_s * 2.0**exponent, self.backoff_max_s)

    def gives_up(self, restart_times: Sequence[float], now: float) -> bool:
        """True when the restarts made within the window have used up the budget."""
        recent = [t for t in restart_times if now - t <= self.window_s]
        return len(recent) >= self.max_restarts

    def resets_backoff(self, ran_for_s: float) -> bool:
        return ran_for_s >= self.stable_after_s
