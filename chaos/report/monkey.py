"""`chaosbed report` of a monkey's journal (JSON lines, `chaosbed monkey`): its
actions on a timeline, over the services' availability when a Prometheus that
scraped them is given, its halts and why, and every action's outcome.

The page is self-contained, as a run's report is. Without a Prometheus it
says so and draws the actions and halts alone: the journal holds no SLI.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

import aiohttp

from chaos.monkey.guardrails import failed_share_query

from .errors import JournalUnreadable
from .page import COUNT, CSS, GUARD
from .plots import FAULT_COLOUR, figure, svg

__all__ = [
    "MonkeyAction",
    "MonkeyRecord",
    "is_monkey_journal",
    "read_availability",
    "read_monkey_journal",
    "render_monkey",
    "write_monkey_report",
]

KIND_COLOURS = {
    "kill": "#d62728",
    "pause": "#9467bd",
    "restart": "#8c564b",
    "latency": "#ff7f0e",
    "error": "#e377c2",
}
HALT_COLOUR = "#7f7f7f"
SLI_WINDOW = "10s"


@dataclass
class MonkeyAction:
    number: int
    kind: str
    victim: str
    chosen_t: float
    injected_t: float | None = None
    ended_t: float | None = None
    outcome: str = "chosen"  # injected, rolled_back, failed, rollback_failed
    evidence: str = ""  # what confirmed its effect, or why none was seen


@dataclass
class MonkeyRecord:
    monkey: str
    started_at: float  # wall clock
    seconds: float  # from the first line to the last
    settings: Mapping[str, Any]
    actions: list[MonkeyAction] = field(default_factory=list)
    halts: list[tuple[float, float | None, str]] = field(default_factory=list)
    skipped: int = 0
    stopped: bool = False


def _lines(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise JournalUnreadable(str(path), f"cannot be read: {error}") from None
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError as error:
            raise JournalUnreadable(f"{path}:{number}", f"is not JSON: {error}") from None
        if not isinstance(line, dict) or not isinstance(line.get("event"), str):
            raise JournalUnreadable(f"{path}:{number}", "is not a journal line (no event)")
        if not isinstance(line.get("t"), int | float) or not isinstance(line.get("at"), str):
            raise JournalUnreadable(f"{path}:{number}", "has no time (t and at)")
        lines.append(line)
    return lines


def is_monkey_journal(path: Path) -> bool:
    """Whether `path` starts as a monkey's journal does (a `started` line with its seed)."""
    try:
        with path.open(encoding="utf-8") as stream:
            first = json.loads(stream.readline() or "null")
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(first, dict) and first.get("event") == "started" and "seed" in first


def read_monkey_journal(path: Path) -> MonkeyRecord:
    """The record of a monkey journal; `JournalUnreadable` names the line that is wrong."""
    lines = _lines(path)
    if not lines or lines[0]["event"] != "started":
        raise JournalUnreadable(str(path), "is not a monkey journal (no `started` line first)")
    first = lines[0]
    try:
        started = datetime.fromisoformat(first["at"]).timestamp() - float(first["t"])
    except ValueError as error:
        raise JournalUnreadable(f"{path}:1", f"at: not an ISO time: {error}") from None
    record = MonkeyRecord(
        monkey=path.stem,
        started_at=started,
        seconds=float(lines[-1]["t"]),
        settings={k: v for k, v in first.items() if k not in ("at", "t", "event")},
    )
    actions: dict[int, MonkeyAction] = {}
    for line in lines[1:]:
        event, t, number = line["event"], float(line["t"]), line.get("action")
        if event == "chosen" and isinstance(number, int):
            actions[number] = MonkeyAction(number, str(line.get("fault")),
                                           str(line.get("victim")), t)  # fmt: skip
        elif isinstance(number, int) and number in actions:
            _action_event(actions[number], event, t, line)
        elif event == "halted":
            why = line.get("why")
            record.halts.append((t, None, "; ".join(why) if isinstance(why, list) else str(why)))
        elif event == "resumed" and record.halts and record.halts[-1][1] is None:
            record.halts[-1] = (record.halts[-1][0], t, record.halts[-1][2])
        elif event == "skipped":
            record.skipped += 1
        elif event == "stopped":
            record.stopped = True
    record.actions = sorted(actions.values(), key=lambda a: a.number)
    return record


def _action_event(action: MonkeyAction, event: str, t: float, line: Mapping[str, Any]) -> None:
    if event == "injected":
        action.injected_t, action.outcome = t, "injected"
    elif event == "effect":
        action.evidence = str(line.get("how", ""))
    elif event == "no_effect":
        action.evidence = f"no effect: {line.get('why', '')}"
    elif event == "failed":
        action.ended_t, action.outcome = t, "failed"
        action.evidence = str(line.get("why", ""))
    elif event in ("rolled_back", "rollback_failed"):
        action.ended_t = t
        if action.outcome != "failed":  # a failed action's rollback is no outcome of its own
            action.outcome = event


def read_availability(
    url: str, record: MonkeyRecord, *, step_s: float = 2.0, timeout_s: float = 10.0
) -> dict[str, list[tuple[float, float]]]:
    """Each service's availability (% of requests answered without a 5xx or a drop,
    over `SLI_WINDOW`) over the monkey's span, from the Prometheus at `url`; seconds
    are from the monkey's start. Raises OSError or ValueError when it cannot be read."""
    query = f"100 * (1 - ({failed_share_query(SLI_WINDOW)}))"
    params = {
        "query": query,
        "start": f"{record.started_at:.3f}",
        "end": f"{record.started_at + max(record.seconds, step_s):.3f}",
        "step": f"{step_s:g}",
    }

    async def read() -> Any:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(f"{url.rstrip('/')}/api/v1/query_range", params=params) as r:
                if r.status != 200:
                    raise ValueError(f"Prometheus answered {r.status}: {(await r.text())[:200]}")
                return await r.json()

    try:
        body = asyncio.run(read())
    except (aiohttp.ClientError, TimeoutError) as error:
        raise OSError(f"cannot read {url}: {error!r}") from None
    series: dict[str, list[tuple[float, float]]] = {}
    for result in body["data"]["result"]:
        service = str(result["metric"].get("service", "?"))
        points = [(float(t) - record.started_at, float(v)) for t, v in result["values"]]
        series[service] = [(t, v) for t, v in points if v == v]  # NaN: no traffic then
    return series


def timeline_svg(
    record: MonkeyRecord, availability: Mapping[str, Sequence[tuple[float, float]]]
) -> str:
    """The actions as spans (coloured by kind, named by victim) and the halts, over each
    service's availability when there is any."""
    with figure(10, 3.6) as fig:
        axes = fig.add_subplot()
        for service, points in sorted(availability.items()):
            if points:
                axes.plot([t for t, _ in points], [v for _, v in points], label=service, lw=1.2)
        top = 100.0 if availability else float(len({a.victim for a in record.actions}) or 1)
        victims = sorted({a.victim for a in record.actions})
        for action in record.actions:
            start = action.injected_t if action.injected_t is not None else action.chosen_t
            end = action.ended_t if action.ended_t is not None else record.seconds
            colour = KIND_COLOURS.get(action.kind, FAULT_COLOUR)
            axes.axvspan(start, end, color=colour, alpha=0.18, lw=0)
            y = top * (0.97 - 0.08 * victims.index(action.victim)) if victims else top
            axes.text(start, y, f"{action.kind} {action.victim}", fontsize=7, color=colour)
        for index, (halted, resumed, _) in enumerate(record.halts):
            axes.axvspan(halted, record.seconds if resumed is None else resumed, color=HALT_COLOUR,
                         alpha=0.25, hatch="//", lw=0,
                         label="halted by the guardrails" if index == 0 else None)  # fmt: skip
        axes.set_xlim(0, max(record.seconds, 1.0))
        axes.set_xlabel("seconds since the monkey started")
        if availability:
            axes.set_ylim(min(90.0, *(v for pts in availability.values() for _, v in pts)), 100.5)
            axes.set_ylabel("availability (%)")
        else:
            axes.set_ylim(0, top * 1.05)
            axes.set_yticks([])
        if availability or record.halts:
            axes.legend(loc="lower left", fontsize=7, ncols=4)
        return svg(fig, "the monkey's actions and halts")


def _action_row(action: MonkeyAction) -> str:
    held = ""
    if action.injected_t is not None and action.ended_t is not None:
        held = f"{action.ended_t - action.injected_t:.1f}"
    cls = "held" if action.outcome == "rolled_back" else "failed"
    cells = (str(action.number), f"{action.chosen_t:.1f}", escape(action.kind),
             escape(action.victim), held)  # fmt: skip
    return (
        "<tr>"
        + "".join(f"<td>{c}</td>" for c in cells)
        + f'<td class="{cls}">{escape(action.outcome)}</td><td>{escape(action.evidence)}</td></tr>'
    )


def render_monkey(
    record: MonkeyRecord,
    availability: Mapping[str, Sequence[tuple[float, float]]] | None,
    note: str = "",
) -> str:
    """One self-contained HTML page."""
    outcomes: dict[str, int] = {}
    for action in record.actions:
        outcomes[action.outcome] = outcomes.get(action.outcome, 0) + 1
    settings = ", ".join(f"{k} {v}" for k, v in record.settings.items())
    rows = "".join(_action_row(a) for a in record.actions)
    halts = "".join(
        f"<tr><td>{start:.1f}</td><td>{'still halted' if end is None else f'{end:.1f}'}</td>"
        f"<td>{escape(why)}</td></tr>"
        for start, end, why in record.halts
    )
    why_not = note or "no Prometheus was given (--prometheus URL)"
    sli = "" if availability else f'<p class="muted">No availability drawn: {escape(why_not)}.</p>'
    summary = ", ".join(f"{n} {escape(k)}" for k, n in sorted(outcomes.items())) or "none"
    started = datetime.fromtimestamp(record.started_at).astimezone().isoformat(timespec="seconds")
    ended = "stopped" if record.stopped else "no stop line (killed?)"
    halts_table = (
        "<table><thead><tr><th>from (s)</th><th>to (s)</th><th>why</th></tr></thead>"
        f"<tbody>{halts}</tbody></table>"
        if halts
        else "<p>None.</p>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>chaosbed monkey: {escape(record.monkey)}</title><style>{CSS}</style>"
        f"<script>{GUARD}</script></head><body>"
        f"<h1>chaosbed monkey: {escape(record.monkey)}</h1>"
        f"<p>{record.seconds:.0f} s from {started}; {escape(settings)}. Actions: {summary}; "
        f"{len(record.halts)} halts; {record.skipped} turns skipped; {ended}.</p>"
        f"<figure>{timeline_svg(record, availability or {})}</figure>{sli}"
        f"<h2>Halts</h2>{halts_table}"
        '<h2>Actions</h2><table class="timeline"><thead><tr><th>#</th><th>chosen (s)</th>'
        "<th>fault</th><th>victim</th><th>held (s)</th><th>outcome</th><th>evidence</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
        f"<script>{COUNT}</script></body></html>"
    )


def write_monkey_report(journal: Path, out: Path, prometheus: str | None) -> tuple[Path, str]:
    """Render `journal` to `out`; the second item says why no availability is drawn."""
    record = read_monkey_journal(journal)
    availability = None
    note = ""
    if prometheus:
        try:
            availability = read_availability(prometheus, record)
        except (OSError, ValueError, KeyError, TypeError) as error:
            note = f"the Prometheus at {prometheus} could not be read ({error})"
        else:
            if not availability:
                note = f"the Prometheus at {prometheus} has no requests over the monkey's span"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_monkey(record, availability, note), encoding="utf-8")
    return out, note
