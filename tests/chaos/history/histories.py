"""Hand-made and generated histories for the checker's tests."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import strategies as st

from chaos.history import FinalStates, History, Op, value_preferences
from services.vocabulary.devices import device_type_of

REPLICAS = ("profiles", "profiles-eu", "profiles-apac")
DEVICES = tuple(f"d{i}" for i in range(6))


def write(
    op_id: int,
    value: int,
    version: int | None,
    at: float,
    *,
    member: str = "m",
    device: str = "d0",
    status: str = "ok",
    error: str | None = None,
    kind: str = "write",
) -> Op:
    ok = status == "ok"
    return Op(
        id=op_id,
        device=device,
        device_type=device_type_of(device),
        kind=kind,
        member=member,
        replica="profiles",
        invoked_at=at,
        value=value,
        status=status,  # type: ignore[arg-type]
        completed_at=at + 0.01,
        version=version,
        preferences=value_preferences(value) if ok and version else None,
        error=error,
    )


def read(
    op_id: int, value: int, version: int, at: float, *, member: str = "m", device: str = "d1"
) -> Op:
    return Op(
        id=op_id,
        device=device,
        device_type=device_type_of(device),
        kind="read",
        member=member,
        replica="profiles-eu",
        invoked_at=at,
        status="ok",
        completed_at=at + 0.01,
        version=version,
        preferences=value_preferences(value),
    )


def history(
    ops: list[Op],
    final: dict[str, tuple[int, dict[str, Any]]],
    *,
    heal_at: float | None = None,
    converged_after: float | None = 0.5,
    faults: tuple[tuple[float, float], ...] = (),
) -> History:
    states = {replica: dict(final) for replica in REPLICAS}
    end = max((op.completed_at or op.invoked_at for op in ops), default=0.0) + 1.0
    return History(tuple(ops), heal_at, FinalStates(states, converged_after, end), faults)


@dataclass
class Generated:
    """A valid history as it was built: what each member holds now, and its ops."""

    ops: list[Op] = field(default_factory=list)
    current: dict[str, tuple[int, int]] = field(default_factory=dict)
    """member -> (version, value) of its newest write."""
    previous: dict[str, int] = field(default_factory=dict)
    """member -> the value of the version before (what a lagging replica may still hold)."""
    next_value: int = 1000
    at: float = 0.0

    def fresh(self) -> int:
        self.next_value += 1
        return self.next_value

    def tick(self) -> float:
        self.at += 0.05
        return self.at

    def add(self, op: Op) -> Op:
        op = replace(op, id=len(self.ops))
        self.ops.append(op)
        return op

    def history(self, **kwargs: Any) -> History:
        final = {m: (v, value_preferences(n)) for m, (v, n) in self.current.items()}
        return history(self.ops, final, **kwargs)


MEMBERS = ("m0", "m1", "m2")


@st.composite
def valid_histories(draw: st.DrawFn) -> Generated:
    """Valid histories: every acknowledged write gets its member's next version;
    failed writes (a 400, a refused connection, a sync's 409 with the current
    version) are never seen; an indeterminate write may have been applied
    (then it holds the next version); reads see the newest version or, from
    a lagging replica, the one before it when that is younger than the bound."""
    made = Generated()
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    ("write", "sync", "read", "fail", "info", "applied", "conflict", "lagging")
                ),
                st.sampled_from(MEMBERS),
                st.sampled_from(DEVICES),
            ),
            min_size=1,
            max_size=40,
        )
    )
    for kind, member, device in [("write", MEMBERS[0], "d0"), *steps]:
        at = made.tick()
        version, value = made.current.get(member, (0, 0))
        if kind in ("write", "sync"):
            made.previous[member] = value
            value = made.fresh()
            version += 1
            made.add(write(0, value, version, at, member=member, device=device, kind=kind))
            made.current[member] = (version, value)
        elif kind == "fail":
            refused = write(0, made.fresh(), None, at, member=member, device=device, status="fail")
            made.add(replace(refused, error="HTTP 400"))
        elif kind == "conflict":  # a sync refused, answering the current version
            refused = write(0, made.fresh(), None, at, member=member, device=device, status="fail")
            made.add(replace(refused, kind="sync", error="HTTP 409", version=version or None))
        elif kind in ("info", "applied"):
            unsure = write(0, made.fresh(), None, at, member=member, device=device, status="info")
            made.add(replace(unsure, error="TimeoutError"))
            if kind == "applied":  # it was applied after all: the next version holds it
                made.previous[member] = value
                made.current[member] = (version + 1, unsure.value or 0)
        elif kind == "lagging":  # a replica a version behind, on a device of its own
            if version > 1:
                lag = read(0, made.previous[member], version - 1, at, member=member)
                made.add(replace(lag, device=f"lag-{device}"))
        elif version:
            made.add(read(0, value, version, at, member=member, device=device))
    return made
