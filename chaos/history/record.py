"""The history file: JSONL, one event a line, appended as operations happen.

    {"type": "invoke", "op": 7, "device": "d2", "device_type": "tv", "kind": "write",
     "member": "h-1", "replica": "profiles-eu", "value": 1234, "base_version": null,
     "at": 1700000000.1}
    {"type": "ok", "op": 7, "at": ..., "version": 5, "preferences": {...}}
    {"type": "fail", "op": 8, "at": ..., "error": "409 conflict"}     not applied
    {"type": "info", "op": 9, "at": ..., "error": "timeout"}          may or may not have
    {"type": "fault", "start": ..., "end": ...}                       a fault was in place
    {"type": "heal", "at": ...}                                       the last fault rolled back
    {"type": "final", "at": ..., "converged_after": 0.8,
     "states": {"profiles": {"h-1": {"version": 5, "preferences": {...}}}}}

`kind` is write (PATCH), sync (POST .../sync from base_version) or read.
An operation invoked but never completed is indeterminate. `device_type`
(tv, mobile, web: `services.vocabulary.devices`) came later: an invoke without it
loads as "unknown". `fault` events declare when faults were in place (from
injection to rollback); a file with none but a `heal` is read as one fault
from its first operation to the heal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from services.vocabulary.devices import UNKNOWN_DEVICE_TYPE

from .errors import HistoryError

__all__ = ["FinalStates", "History", "Op", "load_history", "member_outcome", "save_history"]

Status = Literal["ok", "fail", "info"]
KINDS = ("write", "sync", "read")


@dataclass(frozen=True)
class Op:
    id: int
    device: str
    kind: str
    member: str
    replica: str
    invoked_at: float
    value: int | None = None
    base_version: int | None = None
    status: Status = "info"
    completed_at: float | None = None
    version: int | None = None
    preferences: Mapping[str, Any] | None = None
    error: str | None = None
    device_type: str = UNKNOWN_DEVICE_TYPE

    @property
    def is_write(self) -> bool:
        return self.kind in ("write", "sync")

    def invoke_event(self) -> dict[str, Any]:
        return {
            "type": "invoke",
            "op": self.id,
            "device": self.device,
            "device_type": self.device_type,
            "kind": self.kind,
            "member": self.member,
            "replica": self.replica,
            "value": self.value,
            "base_version": self.base_version,
            "at": self.invoked_at,
        }

    def completion_event(self) -> dict[str, Any]:
        event: dict[str, Any] = {"type": self.status, "op": self.id, "at": self.completed_at}
        if self.version is not None:
            event["version"] = self.version
        if self.preferences is not None:
            event["preferences"] = dict(self.preferences)
        if self.error is not None:
            event["error"] = self.error
        return event


#: how the workload names a connection that could not be made or dropped before an
#: answer (workload.py: "connection refused: ..." or the aiohttp error's type)
NO_CONNECTION = (
    "connection refused",
    "ClientConnectorError",
    "ClientOSError",
    "ServerDisconnectedError",
    "ClientConnectionResetError",
)


def member_outcome(op: Op) -> str | None:
    """`unreachable` when the device got no connection to the replica, or lost it
    before an answer; None otherwise: while it runs, for any answer (a 5xx may be
    about another replica) and for a timeout (a busy machine times out too)."""
    error = op.error or ""
    if op.completed_at is None or op.status == "ok":
        return None
    return "unreachable" if error.startswith(NO_CONNECTION) else None


@dataclass(frozen=True)
class FinalStates:
    """What each replica held at the end: replica -> member -> (version, preferences)."""

    states: Mapping[str, Mapping[str, tuple[int, Mapping[str, Any]]]]
    converged_after: float | None = None
    """Seconds from the heal until every replica agreed (None: they never did)."""
    at: float = 0.0

    def event(self) -> dict[str, Any]:
        return {
            "type": "final",
            "at": self.at,
            "converged_after": self.converged_after,
            "states": {
                replica: {m: {"version": v, "preferences": dict(p)} for m, (v, p) in held.items()}
                for replica, held in self.states.items()
            },
        }


@dataclass(frozen=True)
class History:
    ops: tuple[Op, ...]
    heal_at: float | None = None
    final: FinalStates | None = None
    faults: tuple[tuple[float, float], ...] = ()
    """(start, end) wall times of each fault, from its injection to its rollback."""
    events: tuple[dict[str, Any], ...] = field(default=(), repr=False)


def save_history(path: Path, history: History) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)  # the run's directory, before its journal
    with path.open("w") as out:
        for event in history_events(history):
            out.write(json.dumps(event, sort_keys=True) + "\n")


def history_events(history: History) -> Iterable[dict[str, Any]]:
    for op in history.ops:
        yield op.invoke_event()
        if op.completed_at is not None:
            yield op.completion_event()
    for start, end in history.faults:
        yield {"type": "fault", "start": start, "end": end}
    if history.heal_at is not None:
        yield {"type": "heal", "at": history.heal_at}
    if history.final is not None:
        yield history.final.event()


def _need(event: Mapping[str, Any], name: str, kind: type | tuple[type, ...], line: int) -> Any:
    value = event.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise HistoryError(f"line {line}: field {name!r} is missing or of the wrong type")
    return value


def load_history(path: Path) -> History:
    """Read a history file; HistoryError names the line and field of the first problem."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise HistoryError(f"cannot read {path}: {exc}") from exc
    ops: dict[int, Op] = {}
    heal_at: float | None = None
    final: FinalStates | None = None
    faults: list[tuple[float, float]] = []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            event = json.loads(text)
        except ValueError as exc:
            raise HistoryError(f"line {number}: not JSON ({exc})") from None
        if not isinstance(event, dict):
            raise HistoryError(f"line {number}: an event must be a JSON object")
        kind = event.get("type")
        if kind == "invoke":
            op_kind = _need(event, "kind", str, number)
            if op_kind not in KINDS:
                raise HistoryError(f"line {number}: field 'kind' must be one of {KINDS}")
            op = Op(
                id=_need(event, "op", int, number),
                device=_need(event, "device", str, number),
                kind=op_kind,
                member=_need(event, "member", str, number),
                replica=_need(event, "replica", str, number),
                invoked_at=float(_need(event, "at", (int, float), number)),
                value=event.get("value"),
                base_version=event.get("base_version"),
                device_type=_device_type(event, number),
            )
            ops[op.id] = op
        elif kind in ("ok", "fail", "info"):
            op_id = _need(event, "op", int, number)
            if op_id not in ops:
                raise HistoryError(f"line {number}: field 'op' names {op_id}, never invoked")
            ops[op_id] = replace(
                ops[op_id],
                status=kind,
                completed_at=float(_need(event, "at", (int, float), number)),
                version=event.get("version"),
                preferences=event.get("preferences"),
                error=event.get("error"),
            )
        elif kind == "fault":
            start = float(_need(event, "start", (int, float), number))
            end = float(_need(event, "end", (int, float), number))
            if end < start:
                raise HistoryError(f"line {number}: field 'end' is before field 'start'")
            faults.append((start, end))
        elif kind == "heal":
            heal_at = float(_need(event, "at", (int, float), number))
        elif kind == "final":
            final = _final(event, number)
        else:
            raise HistoryError(f"line {number}: field 'type' {kind!r} is not an event type")
    return History(tuple(ops.values()), heal_at, final, tuple(faults))


def _device_type(event: Mapping[str, Any], line: int) -> str:
    if "device_type" not in event:
        return UNKNOWN_DEVICE_TYPE
    return str(_need(event, "device_type", str, line))


def _final(event: Mapping[str, Any], line: int) -> FinalStates:
    raw = _need(event, "states", dict, line)
    states: dict[str, dict[str, tuple[int, Mapping[str, Any]]]] = {}
    for replica, held in raw.items():
        if not isinstance(held, dict):
            raise HistoryError(f"line {line}: field 'states.{replica}' must be an object")
        states[replica] = {}
        for member, state in held.items():
            if not isinstance(state, dict) or not isinstance(state.get("version"), int):
                raise HistoryError(f"line {line}: field 'states.{replica}.{member}' is malformed")
            states[replica][member] = (state["version"], state.get("preferences") or {})
    after = event.get("converged_after")
    return FinalStates(
        states, None if after is None else float(after), float(event.get("at") or 0.0)
    )
