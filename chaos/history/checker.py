"""The checker: a pure function of a history and the replicas' final states.

An observation is what a history shows a member held at a version: a read
that succeeded, an acknowledged write or sync (its version and its value),
or a replica's final state. Every finding names the operations that show it
(op ids; a final state is named "final:REPLICA") and is counted for the
device type (tv, mobile, web) of the operation it blames: the writer for
lost, conflicting, unwritten and partial values, the reader for stale and
non-monotonic reads; `unknown` when no device type can be blamed (a mixed
version that writes of several device types could have made: `_partial`).

- conflict: two observations of the same member and version with different
  values (one version, one value). Names one operation for each value.
- lost: an acknowledged write that is not there at the end: the member's
  newest final version is lower than the write's; or the newest observation
  of its version (a read or a final state) holds another value (it was
  overwritten in place); or, with no such observation, another acknowledged
  write claims the same version; or it was acknowledged without a version
  and its value is seen nowhere (no read, no final state).
- unwritten: an observed value whose write definitely failed (a 4xx or a
  refused connection: it was never applied) or that no operation wrote.
  Names the observation and the failed write.
- partial: a read or a final state whose fields come from more than one write.
- non-monotonic: a device's read returning a lower version of a member than
  the device had already seen (read or written).
- stale: a read returning a version older than one acknowledged more than
  `bound_s` before the read was invoked. A stale read invoked outside every
  fault window (from a fault's start to `bound_s` after its end) decides;
  one inside a fault window is reported only (`stale_in_faults`). A history
  that declares no faults but a heal has one window, up to the heal.
- divergent: replicas that still disagree in the final states, or that took
  longer than `bound_s` after the heal to catch up (or never did).

The history is valid when it has none of these findings but stale reads
inside fault windows. It cannot be valid without evidence: with no
acknowledged write there is nothing to judge, and without final states
nothing acknowledged can be shown to have survived.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.vocabulary.devices import UNKNOWN_DEVICE_TYPE

from .record import History, Op
from .report import DECISIVE, CheckReport, Finding
from .values import is_whole, value_preferences, write_of

__all__ = ["DECISIVE", "CheckReport", "Finding", "check_history", "fault_windows"]


@dataclass(frozen=True)
class _Seen:
    """One observation of (member, version): the value it held and who showed it."""

    value: int | None
    at: float
    source: str
    """"op N" or "final:REPLICA"."""
    op: Op | None


def _observations(history: History) -> dict[tuple[str, int], list[_Seen]]:
    """Whole values seen by reads and final states (not acks), by (member, version)."""
    seen: dict[tuple[str, int], list[_Seen]] = defaultdict(list)
    for op in history.ops:
        if op.kind == "read" and op.status == "ok" and op.version and op.preferences is not None:
            whole = dict(op.preferences)
            if is_whole(whole):
                when = op.completed_at or op.invoked_at
                seen[op.member, op.version].append(_Seen(write_of(whole), when, f"op {op.id}", op))
    if history.final is not None:
        at = history.final.at or float("inf")
        for replica, held in history.final.states.items():
            for member, (version, prefs) in held.items():
                if version and is_whole(dict(prefs)):
                    value = write_of(dict(prefs))
                    seen[member, version].append(_Seen(value, at, f"final:{replica}", None))
    return seen


def _acks(ops: Iterable[Op]) -> dict[tuple[str, int], list[Op]]:
    acks: dict[tuple[str, int], list[Op]] = defaultdict(list)
    for op in ops:
        if op.is_write and op.status == "ok" and op.version:
            acks[op.member, op.version].append(op)
    return acks


def _conflicts(
    seen: Mapping[tuple[str, int], list[_Seen]], acks: Mapping[tuple[str, int], list[Op]]
) -> list[Finding]:
    out = []
    for key in sorted(set(seen) | set(acks)):
        member, version = key
        first: dict[int | None, _Seen] = {}
        for op in acks.get(key, []):
            first.setdefault(op.value, _Seen(op.value, op.completed_at or 0.0, f"op {op.id}", op))
        for obs in sorted(seen.get(key, []), key=lambda s: s.at):
            first.setdefault(obs.value, obs)
        if len(first) < 2:
            continue
        shows = list(first.values())
        blamed = next((s.op for s in shows if s.op is not None and s.op.is_write), None)
        out.append(
            Finding(
                "conflict",
                tuple(s.op.id for s in shows if s.op is not None),
                blamed.device_type if blamed else UNKNOWN_DEVICE_TYPE,
                f"{member} v{version} holds "
                + " and ".join(f"write {s.value} ({s.source})" for s in shows),
            )
        )
    return out


def _lost(
    history: History,
    seen: Mapping[tuple[str, int], list[_Seen]],
    acks: Mapping[tuple[str, int], list[Op]],
) -> list[Finding]:
    newest: dict[str, int] = {}
    if history.final is not None:
        for held in history.final.states.values():
            for member, (version, _) in held.items():
                newest[member] = max(newest.get(member, 0), version)
    values_seen: dict[str, set[int | None]] = defaultdict(set)
    for op in history.ops:
        if op.kind == "read" and op.status == "ok" and op.preferences is not None:
            values_seen[op.member].add(write_of(dict(op.preferences)))
    if history.final is not None:
        for held in history.final.states.values():
            for member, (_, prefs) in held.items():
                values_seen[member].add(write_of(dict(prefs)))
    out = []
    for op in history.ops:
        if not (op.is_write and op.status == "ok"):
            continue
        why = None
        if not op.version:
            if op.value not in values_seen[op.member]:
                why = "acknowledged without a version and its value is seen nowhere"
        elif newest.get(op.member, 0) < op.version:
            final = newest.get(op.member, 0)
            why = f"v{op.version} acknowledged, the newest final version is v{final}"
        else:
            observed = sorted(seen.get((op.member, op.version), []), key=lambda s: s.at)
            if observed and observed[-1].value != op.value:
                why = (
                    f"v{op.version} overwritten in place: {observed[-1].source}"
                    f" holds write {observed[-1].value}"
                )
            elif not observed and any(o.value != op.value for o in acks[op.member, op.version]):
                why = f"another acknowledged write claims v{op.version}"
        if why is not None:
            out.append(
                Finding("lost", (op.id,), op.device_type, f"{op.member}: {why}", writer=op.id)
            )
    return out


def _unwritten(history: History, seen: Mapping[tuple[str, int], list[_Seen]]) -> list[Finding]:
    writes: dict[tuple[str, int | None], Op] = {}
    for op in history.ops:
        if op.is_write:
            writes[op.member, op.value] = op
    out = []
    for (member, version), observed in sorted(seen.items()):
        for obs in observed:
            if obs.value is None:
                continue
            write = writes.get((member, obs.value))
            if write is not None and write.status != "fail":
                continue
            shown = () if obs.op is None else (obs.op.id,)
            if write is None:
                out.append(
                    Finding(
                        "unwritten",
                        shown,
                        UNKNOWN_DEVICE_TYPE,
                        f"{member} v{version}: {obs.source} holds write {obs.value},"
                        " which no operation wrote",
                    )
                )
            else:
                out.append(
                    Finding(
                        "unwritten",
                        (write.id, *shown),
                        write.device_type,
                        f"{member} v{version}: {obs.source} holds write {obs.value} of op"
                        f" {write.id}, which failed ({write.error or 'not applied'})",
                    )
                )
    return out


def _partial(history: History, acks: Mapping[tuple[str, int], list[Op]]) -> list[Finding]:
    """Mixed reads, acks and final states, blamed on the write that made that version."""
    by_value = {(op.member, op.value): op for op in history.ops if op.is_write}
    writes: dict[str, list[Op]] = defaultdict(list)
    for op in history.ops:
        if op.is_write and op.status != "fail" and op.value is not None:
            writes[op.member].append(op)

    def writer_of(
        member: str, version: int, prefs: Mapping[str, Any], seen_at: float | None
    ) -> tuple[Op | None, str]:
        """The write that made `version` (None when no one write can be named) and the
        device type blamed. The one acknowledged with it; else the one its language
        code names, unless that write made an older version (its fields were left in
        place): then the writes that may have made this one (unanswered, or
        acknowledged with a version at most one per field later, as one version
        per field does) and whose fields are the rest: one names it, several of
        one device type blame the type alone, several types or none no one."""
        acked = acks.get((member, version))
        if acked:
            return acked[0], acked[0].device_type
        named = by_value.get((member, write_of(dict(prefs))))
        if named is None or named.version is None or named.version >= version:
            return named, named.device_type if named is not None else UNKNOWN_DEVICE_TYPE
        assert named.value is not None
        left = value_preferences(named.value)
        made = {key: value for key, value in prefs.items() if left.get(key) != value}
        could = [
            op
            for op in writes[member]
            if op is not named
            # acknowledged with it or up to one version per other field later
            and (op.version is None or version <= op.version < version + len(prefs))
            and (seen_at is None or op.invoked_at <= seen_at)
            and all(value_preferences(op.value or 0).get(k) == v for k, v in made.items())
        ]
        types = {op.device_type for op in could}
        if not made or len(types) != 1:
            return None, UNKNOWN_DEVICE_TYPE
        return (could[0] if len(could) == 1 else None), types.pop()

    out = []
    for op in history.ops:
        if op.status != "ok" or op.preferences is None or is_whole(dict(op.preferences)):
            continue
        writer, kind = writer_of(op.member, op.version or 0, op.preferences, op.completed_at)
        by = _blame(writer, kind)
        shown = (op.id,) if writer is None or writer.id == op.id else (op.id, writer.id)
        blamed = writer.id if writer is not None else None
        detail = f"{op.member} v{op.version} mixed{by}"
        out.append(Finding("partial", shown, kind, detail, writer=blamed))
    for replica, held in history.final.states.items() if history.final else ():
        for member, (version, prefs) in sorted(held.items()):
            if is_whole(dict(prefs)):
                continue
            writer, kind = writer_of(member, version, prefs, None)
            by = _blame(writer, kind)
            out.append(
                Finding(
                    "partial",
                    () if writer is None else (writer.id,),
                    kind,
                    f"final:{replica} {member} v{version} mixed{by}",
                    final=replica,
                    writer=None if writer is None else writer.id,
                )
            )
    return out


def _blame(writer: Op | None, kind: str) -> str:
    if writer is not None:
        return f", written by op {writer.id} ({kind})"
    return (
        "" if kind == UNKNOWN_DEVICE_TYPE else f", written by a {kind} device (which write: unsure)"
    )


def _non_monotonic(ops: tuple[Op, ...]) -> list[Finding]:
    out = []
    by_device: dict[str, list[Op]] = defaultdict(list)
    for op in ops:
        if op.status == "ok" and op.version is not None:
            by_device[op.device].append(op)
    for device_ops in by_device.values():
        highest: dict[str, tuple[int, int]] = {}
        for op in sorted(device_ops, key=lambda o: o.completed_at or 0.0):
            assert op.version is not None
            before, where = highest.get(op.member, (0, -1))
            if op.kind == "read" and op.version < before:
                out.append(
                    Finding(
                        "non_monotonic",
                        (op.id, where),
                        op.device_type,
                        f"{op.member}: device {op.device} read v{op.version}"
                        f" after seeing v{before} (op {where})",
                    )
                )
            if op.version > before:
                highest[op.member] = (op.version, op.id)
    return out


def fault_windows(history: History) -> tuple[tuple[float, float], ...]:
    """The declared fault windows; with none but a heal, from the first operation to the heal."""
    if history.faults:
        return history.faults
    if history.heal_at is not None:
        return ((float("-inf"), history.heal_at),)
    return ()


def _stale(history: History, bound_s: float) -> list[Finding]:
    windows = fault_windows(history)
    acks: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
    for op in history.ops:
        if op.is_write and op.status == "ok" and op.version and op.completed_at:
            acks[op.member].append((op.completed_at, op.version, op.id))
    out = []
    for op in history.ops:
        if op.kind != "read" or op.status != "ok" or op.version is None:
            continue
        old = [(v, i) for at, v, i in acks[op.member] if at < op.invoked_at - bound_s]
        if not old or max(old)[0] <= op.version:
            continue
        version, write = max(old)
        during = any(start <= op.invoked_at <= end + bound_s for start, end in windows)
        out.append(
            Finding(
                "stale_in_fault" if during else "stale",
                (op.id, write),
                op.device_type,
                f"{op.member}: read v{op.version}, v{version} (op {write}) was acknowledged"
                f" more than {bound_s:g}s before" + (" (during a fault)" if during else ""),
            )
        )
    return out


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
    types: Counter[str] = Counter()
    for op in history.ops:
        counts[op.status] += 1
        counts[f"{op.kind}.{op.status}"] += 1
        types[op.device_type] += 1
    seen, acks = _observations(history), _acks(history.ops)
    findings = [
        *_conflicts(seen, acks),
        *(_lost(history, seen, acks) if history.final is not None else ()),
        *_unwritten(history, seen),
        *_partial(history, acks),
        *_non_monotonic(history.ops),
        *_stale(history, bound_s),
    ]
    partial_final = sorted(
        f"{replica}/{member}"
        for replica, held in (history.final.states.items() if history.final else ())
        for member, (_, prefs) in held.items()
        if not is_whole(dict(prefs))
    )
    divergent = _divergent(history)
    notes = []
    converged = history.final.converged_after if history.final else None
    if not any(op.is_write and op.status == "ok" for op in history.ops):
        notes.append("no write was acknowledged: there is nothing to judge")
    if history.final is None:
        notes.append("no final states recorded: lost writes cannot be judged")
    elif converged is None or converged > bound_s:
        divergent.append(
            "replicas did not catch up within "
            f"{bound_s:g}s of the heal (after: {'never' if converged is None else converged})"
        )
    return CheckReport(
        counts=dict(counts),
        findings=tuple(findings),
        partial_final=tuple(partial_final),
        divergent=tuple(divergent),
        converged_after=converged,
        bound_s=bound_s,
        notes=tuple(notes),
        device_types=dict(sorted(types.items())),
    )
