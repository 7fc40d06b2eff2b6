"""Playing a game day: for each experiment, say what happens next and what
we expect, optionally wait for Enter, run it, say what we saw; then write
the combined journal and the report.

Running one experiment is the caller's (`RunAct`): the CLI runs it against
the stack with SIGINT/SIGTERM rolling back; a signal stops the game day
after that experiment's rollback, and the combined journal is still written.
So does a verdict of `failed` (the infrastructure failed: the stack is
down, a fault could not be injected or rolled back): what follows would run
on a broken stack.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.report import write_report

from .model import Act, GameDay
from .outcome import ActResult

__all__ = [
    "GAMEDAY_JOURNAL_VERSION",
    "Played",
    "RunAct",
    "combined_journal",
    "journal_path",
    "play",
    "record",
    "result_of",
]

GAMEDAY_JOURNAL_VERSION = 1

#: Runs one act and writes its journal to the path; answers the signal that
#: interrupted it, or None.
RunAct = Callable[[Act, Path], int | None]


@dataclass(frozen=True)
class Played:
    results: tuple[ActResult, ...]
    journal_path: Path
    report_path: Path
    interrupted: int | None


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "experiment"


def journal_path(directory: Path, index: int, act: Act) -> Path:
    """Where `play` writes the journal of the `index`th act (from 1) it plays."""
    return directory / f"{index:02d}-{_slug(act.name)}.json"


def result_of(act: Act, path: Path) -> ActResult:
    journal: dict[str, Any] = json.loads(path.read_text())
    notes = {k: v for k, v in (("before", act.before), ("expect", act.expect),
                               ("narration", act.narration)) if v}  # fmt: skip
    return ActResult(
        name=act.name,
        title=act.experiment.title,
        source=act.experiment.source,
        predicts=act.experiment.predicts,
        verdict=str(journal.get("verdict", "failed")),
        reasons=tuple(str(r) for r in journal.get("reasons", [])),
        journal_path=path,
        journal=journal,
        notes=notes,
    )


def combined_journal(
    title: str, narration: str, source: str, started: float, results: tuple[ActResult, ...]
) -> dict[str, Any]:
    """One JSON document: the game day and each experiment's whole journal."""
    return {
        "chaosbed_gameday": GAMEDAY_JOURNAL_VERSION,
        "title": title,
        "narration": narration,
        "source": source,
        "started_at": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - started, 3),
        "passed": all(r.passed for r in results),
        "experiments": [
            {
                "name": r.name,
                "source": r.source,
                **r.notes,
                "predicts": r.predicts,
                "verdict": r.verdict,
                "passed": r.passed,
                "journal_path": str(r.journal_path),
                "journal": r.journal,
            }
            for r in results
        ],
    }


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=1, default=str) + "\n")
    os.replace(tmp, path)
    return path


def play(
    gameday: GameDay,
    directory: Path,
    run_act: RunAct,
    *,
    say: Callable[[str], None],
    pause: Callable[[str], None] | None,
) -> Played:
    """Play every act in order; `pause` is None when pauses are skipped."""
    started = time.time()
    say(f"=== Game day: {gameday.title} ({len(gameday.acts)} experiments) ===")
    if gameday.narration:
        say(gameday.narration)
    results: list[ActResult] = []
    interrupted: int | None = None
    for index, act in enumerate(gameday.acts, 1):
        say(f"\n--- {index}/{len(gameday.acts)}: {act.name}: {act.experiment.title}")
        if act.before:
            say(f"Next: {act.before}")
        say(f"We expect: {act.expect or act.experiment.hypothesis.strip()}")
        say(f"(the experiment predicts: {act.experiment.predicts})")
        if act.pause and pause is not None:
            pause("Press Enter to start it... ")
        path = journal_path(directory, index, act)
        interrupted = run_act(act, path)
        if path.is_file():
            result = result_of(act, path)
            results.append(result)
            verdict = "as predicted" if result.passed else "NOT as predicted"
            say(f"We saw: {result.verdict} ({verdict})")
            for reason in result.reasons:
                say(f"  - {reason}")
        if act.narration:
            say(act.narration)
        if interrupted is not None:
            break
        if path.is_file() and results[-1].verdict == "failed":
            say("The infrastructure failed: the game day stops here.")
            break
    return record(gameday, directory, started, tuple(results), interrupted)


def record(
    gameday: GameDay,
    directory: Path,
    started: float,
    results: tuple[ActResult, ...],
    interrupted: int | None,
) -> Played:
    """Write the combined journal and the report of what was played into `directory`."""
    document = combined_journal(gameday.title, gameday.narration, gameday.source, started, results)
    combined = write_json(directory / "gameday.json", document)
    report = write_report(combined, directory / "report.html")
    return Played(results, combined, report, interrupted)
