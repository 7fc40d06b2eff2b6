"""A Chaos Toolkit journal (the JSON `chaos run` writes) read as a chaosbed journal,
for `chaosbed report` and `chaosbed verify --junit`.

A CTK run of an exported experiment carries chaosbed's own journal: chaosbed's
control names it in CTK's journal (`chaosbed.run.journal`), and that journal,
with its SLIs, faults and verdict, is the one read; CTK's status is added to
its context. Any other CTK journal becomes a chaosbed journal with no SLI:

| CTK | verdict |
|---|---|
| completed, not deviated, its hypothesis met after the method | held |
| completed, deviated | deviated |
| completed, its hypothesis missed before the method (CTK skipped the method) | not_steady |
| completed, no hypothesis after the method (none, or before-method-only) | failed |
| interrupted, aborted | aborted |
| failed | failed |

The reasons name the probes that missed their tolerance or failed, and the
activities that failed; each activity is an event of the timeline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from chaos.report.errors import JournalUnreadable
from chaos.runner.journal import JOURNAL_VERSION

__all__ = ["chaosbed_journal_of", "is_ctk_journal"]


def is_ctk_journal(doc: Any) -> bool:
    return isinstance(doc, Mapping) and "chaoslib-version" in doc and "experiment" in doc


def chaosbed_journal_of(doc: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The chaosbed journal of the CTK journal `doc` (read from `where`)."""
    said = doc.get("chaosbed")
    run = said.get("run") if isinstance(said, Mapping) else None
    if isinstance(run, Mapping) and run.get("journal"):
        path = Path(str(run["journal"]))
        try:
            journal = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise JournalUnreadable(
                f"{where}.chaosbed.run.journal", f"chaosbed's journal {path}: {error}"
            ) from None
        if not isinstance(journal, dict):
            raise JournalUnreadable(f"{where}.chaosbed.run.journal", f"{path}: not a journal")
        context = journal.setdefault("context", {})
        context["ctk"] = {"status": doc.get("status"), "deviated": doc.get("deviated")}
        return journal
    return _from_ctk(doc)


def _name(run: Mapping[str, Any]) -> str:
    activity = run.get("activity") or {}
    return str(activity.get("name") or "?") if isinstance(activity, Mapping) else "?"


def _failure(run: Mapping[str, Any]) -> str:
    lines = run.get("exception") or []
    last = str(lines[-1]).strip() if isinstance(lines, list) and lines else "no detail"
    return last.removeprefix("chaoslib.exceptions.ActivityFailed: ")


def _probe_reasons(state: Any, phase: str) -> list[str]:
    reasons = []
    probes = state.get("probes") if isinstance(state, Mapping) else None
    for probe in probes if isinstance(probes, list) else []:
        if not isinstance(probe, Mapping):
            continue
        activity = probe.get("activity") or {}
        tolerance = activity.get("tolerance") if isinstance(activity, Mapping) else None
        if probe.get("status") == "failed":
            reasons.append(f"probe {_name(probe)} ({phase}) failed: {_failure(probe)}")
        elif probe.get("tolerance_met") is False:
            reasons.append(
                f"probe {_name(probe)} ({phase}): {probe.get('output')!r} is not within its "
                f"tolerance {tolerance!r}"
            )
    return reasons


def _verdict(doc: Mapping[str, Any]) -> tuple[str, list[str]]:
    status = str(doc.get("status") or "")
    states = doc.get("steady_states") or {}
    before, after = states.get("before"), states.get("after")
    reasons = _probe_reasons(before, "before the method") + _probe_reasons(after, "after it")
    for run in [*(doc.get("run") or []), *(doc.get("rollbacks") or [])]:
        if isinstance(run, Mapping) and run.get("status") == "failed":
            reasons.append(f"activity {_name(run)} failed: {_failure(run)}")
    if status in ("interrupted", "aborted", "failed"):
        verdict = "failed" if status == "failed" else "aborted"
        return verdict, [f"CTK's run ended {status}", *reasons]
    if status != "completed":
        return "failed", [f"CTK's run has no known status ({status or 'none'})"]
    if doc.get("deviated"):
        return "deviated", reasons
    if after is None and isinstance(before, Mapping) and before.get("steady_state_met") is False:
        return "not_steady", reasons or ["the hypothesis missed before the method"]
    if after is None:
        return "failed", [
            "CTK judged no steady-state hypothesis after the method (none, or strategy "
            "before-method-only): nothing was judged after the faults",
            *reasons,
        ]
    return "held", reasons


def _seconds(at: Any, start: datetime | None) -> float | None:
    if start is None:
        return None
    try:
        return round((datetime.fromisoformat(str(at)) - start).total_seconds(), 3)
    except ValueError:
        return None


def _events(doc: Mapping[str, Any], start: datetime | None) -> list[dict[str, Any]]:
    events = []
    states = doc.get("steady_states") or {}
    groups = [
        ("steady", (states.get("before") or {}).get("probes") or []),
        ("method", doc.get("run") or []),
        ("tail", (states.get("after") or {}).get("probes") or []),
        ("rollback", doc.get("rollbacks") or []),
    ]
    for phase, runs in groups:
        for run in runs:
            if not isinstance(run, Mapping):
                continue
            t = _seconds(run.get("start"), start)
            events.append({
                "t": 0.0 if t is None else t, "at": run.get("start"), "phase": phase,
                "event": "activity", "activity": _name(run),
                "status": run.get("status") or "interrupted",
            })  # fmt: skip
    return sorted(events, key=lambda e: e["t"])


def _from_ctk(doc: Mapping[str, Any]) -> dict[str, Any]:
    experiment = doc.get("experiment") or {}
    try:
        start: datetime | None = datetime.fromisoformat(str(doc.get("start")))
    except ValueError:
        start = None
    verdict, reasons = _verdict(doc)
    duration = doc.get("duration")
    return {
        "chaosbed_journal": JOURNAL_VERSION,
        "run_id": str(doc.get("start") or ""),
        "started_at": str(doc.get("start") or ""),
        "duration_s": float(duration) if isinstance(duration, int | float) else 0.0,
        "experiment": {
            "title": str(experiment.get("title") or ""),
            "hypothesis": str(experiment.get("description") or ""),
            "steady_state": {"slos": []},
        },
        "context": {
            "runtime": "chaos toolkit",
            "source": "a Chaos Toolkit journal",
            "predicts": "held",
            "ctk": {"status": doc.get("status"), "deviated": doc.get("deviated")},
        },
        "verdict": verdict,
        "reasons": reasons,
        "timings": {},
        "baseline": {},
        "events": _events(doc, start),
        "slis": {},
        "breakers": {},
        "faults": [],
        "expectations": [],
    }
