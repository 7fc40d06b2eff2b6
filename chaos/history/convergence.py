"""How long the replicas took, after the heal, to catch up with each other.

`ConvergenceWatch` reads every replica's member versions
(`GET /replication/versions`) over and over while the workload runs, and
keeps each round as a `Round`. Writes go on after the heal, so the replicas
need not hold identical states at any one instant; they have caught up when
every replica holds, for every member of the workload, at least the newest
version that any replica held or any write had acknowledged at the heal.
`converged_after` is the time from the heal to the end of the first round,
started after the heal, in which they all had (None: no such round).

This measures the replicas, not the runner: a recovery phase that waits
12 s before the history is checked does not make replicas that caught up at
once look slow.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import aiohttp

from .record import Op

__all__ = ["ConvergenceWatch", "Round", "caught_up_after", "target_at"]


@dataclass(frozen=True)
class Round:
    """One read of every replica: replica -> member -> version (None: no answer)."""

    started_at: float
    ended_at: float
    versions: Mapping[str, Mapping[str, int] | None]


def target_at(heal_at: float, rounds: Iterable[Round], ops: Iterable[Op]) -> dict[str, int]:
    """Per member, the newest version held anywhere or acknowledged by the heal."""
    target: dict[str, int] = {}
    before = [r for r in rounds if r.ended_at <= heal_at]
    if before:
        for held in before[-1].versions.values():
            for member, version in (held or {}).items():
                target[member] = max(target.get(member, 0), version)
    for op in ops:
        if op.is_write and op.status == "ok" and op.version and (op.completed_at or 0) <= heal_at:
            target[op.member] = max(target.get(op.member, 0), op.version)
    return target


def caught_up_after(
    heal_at: float, rounds: Sequence[Round], target: Mapping[str, int]
) -> float | None:
    """Seconds from the heal to the end of the first round after it with every replica caught up."""
    for one in rounds:
        if one.started_at < heal_at:
            continue
        if all(
            held is not None and all(held.get(m, 0) >= v for m, v in target.items())
            for held in one.versions.values()
        ):
            return max(0.0, one.ended_at - heal_at)
    return None


class ConvergenceWatch:
    """Reads every replica's versions of `members` every `poll_s` until stopped."""

    def __init__(
        self,
        replicas: Mapping[str, str],
        members: Sequence[str],
        *,
        poll_s: float = 0.2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.replicas = dict(replicas)
        self.members = set(members)
        self.poll_s = poll_s
        self.rounds: list[Round] = []
        self._clock = clock
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> list[Round]:
        timeout = aiohttp.ClientTimeout(total=max(0.5, self.poll_s * 5))
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self._stopping.is_set():
                started = self._clock()
                answers = await asyncio.gather(
                    *(self._versions(session, url) for url in self.replicas.values())
                )
                versions = dict(zip(self.replicas, answers, strict=True))
                self.rounds.append(Round(started, self._clock(), versions))
                try:
                    await asyncio.wait_for(self._stopping.wait(), self.poll_s)
                except TimeoutError:
                    pass
        return self.rounds

    async def _versions(self, session: aiohttp.ClientSession, url: str) -> dict[str, int] | None:
        try:
            async with session.get(f"{url}/replication/versions") as response:
                if response.status != 200:
                    return None
                data = await response.json()
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return None
        held = data.get("versions") if isinstance(data, dict) else None
        if not isinstance(held, dict):
            return None
        return {m: int(v) for m, v in held.items() if m in self.members and isinstance(v, int)}

    async def caught_up_after(
        self, heal_at: float, ops: Iterable[Op], bound_s: float
    ) -> float | None:
        """Wait (while rounds go on) until the replicas caught up after the heal or
        `bound_s` passed since it; the seconds it took, None when they did not."""
        target = target_at(heal_at, self.rounds, ops)
        while True:
            after = caught_up_after(heal_at, self.rounds, target)
            if after is not None or self._clock() > heal_at + bound_s or self._stopping.is_set():
                return after
            await asyncio.sleep(self.poll_s / 2)
