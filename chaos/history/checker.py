"""The checker: a pure function of a history and the replicas' final states.

- lost: an acknowledged write (ok) whose version is not in the end state and
  not superseded: the final version of its member is lower, or that version
  number is held (by the final state, a read or another acknowledged write)
  with another write's value.
- partial: a read or a final state whose fields come from more than one write.
- non-monotonic: a device's read returning a lower version of a member than
  the device had already seen (read or written).
- stale: a read returning a version older than one acknowledged more than
  `bound_s` before the read was invoked.
- divergence: replicas that still disagree in the final states, or that took
  longer than `bound_s` after the heal to agree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .record import History, Op
from .values import is_whole, write_of

__all__ = ["CheckReport", "check_history"]


@dataclass(frozen=True)
class CheckReport:
    counts: Mapping[str, int]
    """ok, fail, info (indeterminate) over all operations, and per kind ("write.ok", ...)."""
    lost: tuple[int, ...] = ()
    partial: tuple[int, ...] = ()
    partial_final: tuple[str, ...] = ()
    """"replica/member" whose final state is partial."""
    non_monotonic: tuple[int, ...] = ()
    stale: tuple[int, ...] = ()
    divergent: tuple[str, ...] = ()
    converged_after: float | None = None
    bound_s: float = 5.0
    notes: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return not (
            self.lost or self.partial or self.partial_final or self.non_monotonic or self.divergent
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "counts": dict(self.counts),
            "lost": list(self.lost),
            "partial": list(self.partial),
            "partial_final": list(self.partial_final),
            "non_monotonic": list(self.non_monotonic),
            "stale": list(self.stale),
            "divergent": list(self.divergent),
            "converged_after": self.converged_after,
            "bound_s": self.bound_s,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        c = self.counts
        return (
            f"{c.get('ok', 0)} ok, {c.get('fail', 0)} failed, {c.get('info', 0)} indeterminate;"
            f" lost {len(self.lost)}, partial {len(self.partial) + len(self.partial_final)},"
            f" non-monotonic {len(self.non_monotonic)}, stale {len(self.stale)},"
            f" divergent {len(self.divergent)}, converged after "
            + ("never" if self.converged_after is None else f"{self.converged_after:.2f}s")
        )


def _final_of(history: History) -> dict[str, tuple[int, Mapping[str, Any]]]:
    """Each member's newest final state over all replicas."""
    newest: dict[str, tuple[int, Mapping[str, Any]]] = {}
    if history.final is None:
        return newest
    for held in history.final.states.values():
        for member, (version, prefs) in held.items():
            if member not in newest or version > newest[member][0]:
                newest[member] = (version, prefs)
    return newest


def _lost(history: History, newest: Mapping[str, tuple[int, Mapping[str, Any]]]) -> set[int]:
    acked = [op for op in history.ops if op.is_write and op.status == "ok"]
    seen: dict[tuple[str, int], set[int | None]] = defaultdict(set)
    for op in history.ops:
        if op.kind == "read" and op.status == "ok" and op.version and op.preferences is not None:
            seen[op.member, op.version].add(write_of(dict(op.preferences)))
    for member, (version, prefs) in newest.items():
        seen[member, version].add(write_of(dict(prefs)))
    claims: dict[tuple[str, int], list[Op]] = defaultdict(list)
    for op in acked:
        if op.version is not None:
            claims[op.member, op.version].append(op)
    lost: set[int] = set()
    for op in acked:
        if op.version is None:
            continue
        final = newest.get(op.member)
        if final is None or final[0] < op.version:
            lost.add(op.id)
            continue
        observed = seen.get((op.member, op.version), set())
        if observed and op.value not in observed:
            lost.add(op.id)
        elif not observed and len(claims[op.member, op.version]) > 1:
            lost.add(op.id)
    return lost


def _non_monotonic(ops: tuple[Op, ...]) -> set[int]:
    bad: set[int] = set()
    by_device: dict[str, list[Op]] = defaultdict(list)
    for op in ops:
        if op.status == "ok" and op.version is not None:
            by_device[op.device].append(op)
    for device_ops in by_device.values():
        highest: dict[str, int] = {}
        for op in sorted(device_ops, key=lambda o: o.completed_at or 0.0):
            assert op.version is not None
            if op.kind == "read" and op.version < highest.get(op.member, 0):
                bad.add(op.id)
            highest[op.member] = max(highest.get(op.member, 0), op.version)
    return bad


def _stale(ops: tuple[Op, ...], bound_s: float) -> set[int]:
    acks: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for op in ops:
        if op.is_write and op.status == "ok" and op.version and op.completed_at:
            acks[op.member].append((op.completed_at, op.version))
    stale: set[int] = set()
    for op in ops:
        if op.kind != "read" or op.status != "ok" or op.version is None:
            continue
        old_enough = [v for at, v in acks[op.member] if at < op.invoked_at - bound_s]
        if old_enough and max(old_enough) > op.version:
            stale.add(op.id)
    return stale


def _divergent(history: History) -> list[str]:
    if history.final is None:
        return []
    replicas = list(history.final.states)
    members = sorted({m for held in history.final.states.values() for m in held})
    out = []
    for member in members:
        states = {
            replica: history.final.states[replica].get(member, (0, {})) for replica in replicas
        }
        if len({(v, tuple(sorted(map(str, p.items())))) for v, p in states.values()}) > 1:
            shown = ", ".join(f"{r}@v{v}" for r, (v, _) in states.items())
            out.append(f"{member}: {shown}")
    return out


def check_history(history: History, *, bound_s: float = 5.0) -> CheckReport:
    counts: Counter[str] = Counter()
    for op in history.ops:
        counts[op.status] += 1
        counts[f"{op.kind}.{op.status}"] += 1
    partial = {
        op.id
        for op in history.ops
        if op.status == "ok" and op.preferences is not None and not is_whole(dict(op.preferences))
    }
    partial_final = sorted(
        f"{replica}/{member}"
        for replica, held in (history.final.states.items() if history.final else ())
        for member, (_, prefs) in held.items()
        if not is_whole(dict(prefs))
    )
    divergent = _divergent(history)
    notes = []
    converged = history.final.converged_after if history.final else None
    if history.final is None:
        notes.append("no final states recorded: lost writes cannot be judged")
    elif converged is None or converged > bound_s:
        divergent.append(
            "replicas did not agree within "
            f"{bound_s:g}s of the heal (after: {'never' if converged is None else converged})"
        )
    return CheckReport(
        counts=dict(counts),
        lost=tuple(sorted(_lost(history, _final_of(history)))),
        partial=tuple(sorted(partial)),
        partial_final=tuple(partial_final),
        non_monotonic=tuple(sorted(_non_monotonic(history.ops))),
        stale=tuple(sorted(_stale(history.ops, bound_s))),
        divergent=tuple(divergent),
        converged_after=converged,
        bound_s=bound_s,
        notes=tuple(notes),
    )
