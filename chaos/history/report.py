"""What the checker found: findings (each naming op ids and a device type) and the report.

A finding's kind is one of `KINDS`; all but `stale_in_fault` decide
(`DECISIVE`). `chaos.history.checker` says what each kind means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DECISIVE", "KINDS", "CheckReport", "Finding"]

DECISIVE = ("conflict", "lost", "unwritten", "partial", "non_monotonic", "stale", "divergent")
"""The kinds of finding that make a history invalid (`stale_in_fault` does not)."""
KINDS = (*DECISIVE, "stale_in_fault")


@dataclass(frozen=True)
class Finding:
    kind: str
    ops: tuple[int, ...]
    """The operations that show it: the one blamed first."""
    device_type: str
    detail: str
    final: str | None = None
    """The replica whose final state shows it (then `ops` names only the write blamed)."""
    writer: int | None = None
    """The write blamed for a lost or partial value; None when no write can be (a mixed
    version that unanswered writes of more than one device type could have made)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ops": list(self.ops),
            "device_type": self.device_type,
            "detail": self.detail,
            "final": self.final,
            "writer": self.writer,
        }


@dataclass(frozen=True)
class CheckReport:
    counts: Mapping[str, int]
    """ok, fail, info (indeterminate) over all operations, and per kind ("write.ok", ...)."""
    findings: tuple[Finding, ...] = ()
    partial_final: tuple[str, ...] = ()
    """"replica/member" whose final state is partial."""
    divergent: tuple[str, ...] = ()
    converged_after: float | None = None
    bound_s: float = 5.0
    notes: tuple[str, ...] = field(default=())
    device_types: Mapping[str, int] = field(default_factory=dict)
    """Operations per device type."""

    def ids(self, kind: str) -> tuple[int, ...]:
        """The op id each finding of `kind` names first (final states aside), sorted."""
        return tuple(
            sorted({f.ops[0] for f in self.findings if f.kind == kind and f.ops and not f.final})
        )

    @property
    def lost(self) -> tuple[int, ...]:
        return self.ids("lost")

    @property
    def partial(self) -> tuple[int, ...]:
        return self.ids("partial")

    @property
    def conflicts(self) -> tuple[int, ...]:
        return tuple(sorted({i for f in self.findings if f.kind == "conflict" for i in f.ops}))

    @property
    def unwritten(self) -> tuple[int, ...]:
        return tuple(sorted({i for f in self.findings if f.kind == "unwritten" for i in f.ops}))

    @property
    def non_monotonic(self) -> tuple[int, ...]:
        return self.ids("non_monotonic")

    @property
    def stale(self) -> tuple[int, ...]:
        """Stale reads outside every fault window: they decide."""
        return self.ids("stale")

    @property
    def stale_in_faults(self) -> tuple[int, ...]:
        return self.ids("stale_in_fault")

    def count(self, kind: str) -> int:
        return sum(f.kind == kind for f in self.findings)

    @property
    def by_device_type(self) -> dict[str, dict[str, int]]:
        """device type -> finding kind -> number of findings blamed on that type."""
        table: dict[str, dict[str, int]] = {}
        for finding in self.findings:
            row = table.setdefault(finding.device_type, {})
            row[finding.kind] = row.get(finding.kind, 0) + 1
        return {kind: table[kind] for kind in sorted(table)}

    @property
    def valid(self) -> bool:
        decisive = any(f.kind in DECISIVE for f in self.findings)
        return not decisive and not self.divergent and not self.notes

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "counts": dict(self.counts),
            "device_types": dict(self.device_types),
            "lost": list(self.lost),
            "partial": list(self.partial),
            "conflict": list(self.conflicts),
            "unwritten": list(self.unwritten),
            "non_monotonic": list(self.non_monotonic),
            "stale": list(self.stale),
            "stale_in_faults": list(self.stale_in_faults),
            "partial_final": list(self.partial_final),
            "divergent": list(self.divergent),
            "findings": [f.to_json() for f in self.findings],
            "by_device_type": self.by_device_type,
            "converged_after": self.converged_after,
            "bound_s": self.bound_s,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        c = self.counts
        partial = self.count("partial")
        return (
            f"{c.get('ok', 0)} ok, {c.get('fail', 0)} failed, {c.get('info', 0)} indeterminate;"
            f" lost {self.count('lost')}, partial {partial},"
            f" conflicting {self.count('conflict')}, unwritten {self.count('unwritten')},"
            f" non-monotonic {self.count('non_monotonic')}, stale {self.count('stale')}"
            f" (+{self.count('stale_in_fault')} during faults),"
            f" divergent {len(self.divergent)}, converged after "
            + ("never" if self.converged_after is None else f"{self.converged_after:.2f}s")
        )

    def device_lines(self) -> list[str]:
        """One line per device type: its operations and the findings blamed on it."""
        table = self.by_device_type
        lines = []
        for kind in sorted(set(self.device_types) | set(table)):
            found = ", ".join(f"{k.replace('_', '-')} {n}" for k, n in table.get(kind, {}).items())
            lines.append(f"{kind}: {self.device_types.get(kind, 0)} ops; {found or 'no findings'}")
        return lines
