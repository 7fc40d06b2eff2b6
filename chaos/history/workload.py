"""The history workload: concurrent devices writing unique values, syncing and reading.

Each device talks to one replica (devices are spread over the replicas), is
of one type (tv, mobile or web, by a stable hash of its id: `d0`..`d5` are
tv, mobile, web, web, tv, tv), sends that type as `X-Chaosbed-Device-Type` on
every request, and runs one operation at a time: a write (PATCH of every field with a unique
value), a sync (POST .../sync from the last version the device saw) or a
read (with ``min_version`` = the last version the device saw). The members
are spread over the replicas' homes (member i is homed at replica i modulo
their number), so a fault between two replicas always has members whose
writes must cross it. Outcomes:

    200                          ok (with the version and preferences answered)
    4xx, connection refused      fail: the write was certainly not applied
    5xx, timeout, other errors   info: indeterminate (it may have been applied)

After `stop`, `final_states` polls every replica until they hold the same
states (or the bound passes). How long the replicas took to catch up after
the heal is measured while the workload runs (`convergence.py`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp

from services.vocabulary.devices import DEVICE_TYPE_HEADER, device_type_of
from services.vocabulary.homes import REGIONS, home_region

from .record import FinalStates, Op
from .values import VALUE_SPACE, value_preferences

__all__ = ["Workload", "WorkloadSpec", "final_states", "spread_over_homes"]


@dataclass(frozen=True)
class WorkloadSpec:
    devices: int = 6
    members: int = 4
    pause_s: float = 0.02
    timeout_s: float = 1.0
    mix: Mapping[str, float] = field(
        default_factory=lambda: {"write": 0.4, "sync": 0.2, "read": 0.4}
    )
    seed: int | None = None


def spread_over_homes(prefix: str, count: int) -> list[str]:
    """`count` member ids `prefix-N`, the i-th homed in region i modulo the number of regions.

    Ids drawn at random leave a region without a member one run in five (4
    members, 3 regions), and a fault cutting that region's pushes then meets
    no write it could delay: the run would hold on no evidence.
    """
    members: list[str] = []
    candidate = 0
    for i in range(count):
        wanted = REGIONS[i % len(REGIONS)]
        while home_region(f"{prefix}-{candidate}") != wanted:
            candidate += 1
        members.append(f"{prefix}-{candidate}")
        candidate += 1
    return members


class Workload:
    def __init__(
        self,
        replicas: Mapping[str, str],
        spec: WorkloadSpec | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.replicas = dict(replicas)
        self.spec = spec or WorkloadSpec()
        self._clock = clock
        self._rng = random.Random(self.spec.seed)
        run = self._rng.randrange(36**4)
        self.members = spread_over_homes(f"hist-{run:x}", self.spec.members)
        self._next_value = self._rng.randrange(VALUE_SPACE - 10_000_000)
        self.ops: list[Op] = []
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> list[Op]:
        """Run every device until `stop()`; the operations, in invocation order."""
        timeout = aiohttp.ClientTimeout(total=self.spec.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            names = list(self.replicas)
            await asyncio.gather(
                *(
                    self._device(session, f"d{i}", names[i % len(names)])
                    for i in range(self.spec.devices)
                )
            )
        return self.ops

    async def _device(self, session: aiohttp.ClientSession, device: str, replica: str) -> None:
        seen: dict[str, int] = {}
        kinds, weights = zip(*self.spec.mix.items(), strict=True)
        while not self._stopping.is_set():
            kind = self._rng.choices(kinds, weights)[0]
            member = self._rng.choice(self.members)
            op = await self._one(session, device, replica, kind, member, seen.get(member, 0))
            if op.status == "ok" and op.version is not None:
                seen[member] = max(seen.get(member, 0), op.version)
            elif op.kind == "sync" and op.version is not None:  # a conflict's current version
                seen[member] = max(seen.get(member, 0), op.version)
            await asyncio.sleep(self.spec.pause_s)

    async def _one(
        self,
        session: aiohttp.ClientSession,
        device: str,
        replica: str,
        kind: str,
        member: str,
        last_seen: int,
    ) -> Op:
        value = None
        if kind != "read":
            value, self._next_value = self._next_value, self._next_value + 1
        op = Op(
            id=len(self.ops),
            device=device,
            device_type=device_type_of(device),
            kind=kind,
            member=member,
            replica=replica,
            invoked_at=self._clock(),
            value=value,
            base_version=last_seen if kind == "sync" else None,
        )
        self.ops.append(op)
        done = await self._send(session, op, last_seen)
        self.ops[op.id] = done
        return done

    async def _send(self, session: aiohttp.ClientSession, op: Op, last_seen: int) -> Op:
        base = f"{self.replicas[op.replica]}/profiles/{op.member}"
        headers = {DEVICE_TYPE_HEADER: op.device_type}
        if op.kind != "read":
            headers["Idempotency-Key"] = f"{op.member}-{op.value}"
        try:
            if op.kind == "read":
                call = session.get(base, params={"min_version": str(last_seen)}, headers=headers)
            elif op.kind == "write":
                call = session.patch(base, json=value_preferences(op.value or 0), headers=headers)
            else:
                body = {"base_version": last_seen, "changes": value_preferences(op.value or 0)}
                call = session.post(base + "/sync", json=body, headers=headers)
            async with call as response:
                data: Any = await response.json(content_type=None)
                status = response.status
        except aiohttp.ClientConnectorError as exc:
            return self._done(op, "fail", error=f"connection refused: {exc.os_error}")
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            return self._done(op, "info", error=f"{type(exc).__name__}: {exc}")
        if status == 200 and isinstance(data, dict):
            return self._done(
                op, "ok", version=data.get("version"), preferences=data.get("preferences")
            )
        if 400 <= status < 500:
            current = data.get("current") if isinstance(data, dict) else None
            version = current.get("version") if isinstance(current, dict) else None
            return self._done(op, "fail", error=f"HTTP {status}", version=version)
        status_kind = "fail" if op.kind == "read" else "info"
        return self._done(op, status_kind, error=f"HTTP {status}")

    def _done(self, op: Op, status: str, **changes: Any) -> Op:
        return replace(op, status=status, completed_at=self._clock(), **changes)  # type: ignore[arg-type]


async def _state(session: aiohttp.ClientSession, url: str) -> dict[str, tuple[int, Any]] | None:
    try:
        async with session.get(f"{url}/replication/state") as response:
            data = await response.json()
    except (TimeoutError, aiohttp.ClientError, ValueError):
        return None
    return {e["member"]: (e["version"], e["preferences"]) for e in data.get("entries", [])}


async def final_states(
    replicas: Mapping[str, str],
    members: list[str],
    *,
    bound_s: float = 5.0,
    heal_at: float | None = None,
    poll_s: float = 0.1,
    clock: Callable[[], float] = time.time,
) -> FinalStates:
    """Every replica's states of `members`, polled until all hold the same or `bound_s` + 5 s pass.

    With `heal_at`, `converged_after` is the time from it until they held the
    same: right only when nothing wrote after `heal_at` (the workload stopped
    first). While the workload runs on after the heal, `ConvergenceWatch`
    measures it instead, and `converged_after` is left unset here.
    """
    timeout = aiohttp.ClientTimeout(total=1.0)
    wanted = set(members)
    start = clock()
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            states = {}
            for name, url in replicas.items():
                held = await _state(session, url)
                states[name] = {m: s for m, s in (held or {}).items() if m in wanted}
            distinct = {
                tuple(sorted((m, v) for m, (v, _) in held.items())) for held in states.values()
            }
            reachable = all(states[name] or not wanted for name in replicas)
            now = clock()
            if len(distinct) == 1 and reachable:
                after = None if heal_at is None else max(0.0, now - heal_at)
                return FinalStates(states, after, now)
            if now - (start if heal_at is None else heal_at) > bound_s + 5.0:
                return FinalStates(states, None, now)
            await asyncio.sleep(poll_s)
