"""The unmutated verdicts taken from journals a run already wrote (`mutate --baseline DIR`).

`chaosbed verify` over the library and `chaosbed mutate` both play the covering
experiments on an unmutated stack; in CI the second play is the same evidence
again. With `--baseline DIR` mutate reads the journals under DIR (written by
`verify --out`, `run --journal`, a game day) instead, for each experiment
whose journal matches it exactly:

- the journal records the same experiment, field by field, as the library
  loads it now (an edited experiment is played again, not judged by an old
  run), and
- it was run in the same runtime (a docker journal is no baseline for a
  process mutate, and the other way round).

Where several journals match, the latest counts. An experiment with none is
played on the unmutated stack as without the option. A matching journal whose
verdict was not the prediction counts exactly as a fresh play would (a false
alarm, or not steady): the baseline is evidence read, never assumed. An exploration (seconds
to play) is always played.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode
from chaos.explore.exploration import Exploration
from chaos.gameday import Act, ActResult, result_of
from chaos.runner.session import experiment_record

__all__ = ["BaselineError", "from_baseline"]


class BaselineError(ChaosbedError):
    """The baseline directory cannot be read (the message names it): invalid input."""

    exit_code = ExitCode.INVALID_INPUT


def _journals(directory: Path) -> list[tuple[Path, dict[str, Any]]]:
    if not directory.is_dir():
        raise BaselineError(f"--baseline {directory}: not a directory")
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(directory.rglob("*.json")):
        try:
            document = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue  # not a journal: a report's data, a matrix, a half-written file
        if isinstance(document, dict) and "chaosbed_journal" in document:
            found.append((path, document))
    return found


def _comparable(record: dict[str, Any]) -> Any:
    """The experiment without where it was read from (a path is written relative or
    absolute as the command was given it), with tuples as the journal's lists."""
    return {k: v for k, v in json.loads(json.dumps(record)).items() if k != "source"}


def from_baseline(
    directory: Path, acts: Sequence[Act], runtime: str
) -> tuple[list[ActResult], list[Act]]:
    """The results the baseline holds for `acts` (in their order), and the acts it has
    no journal for; BaselineError when `directory` is not a directory."""
    journals = _journals(directory)
    found: list[ActResult] = []
    missing: list[Act] = []
    for act in acts:
        if isinstance(act.experiment, Exploration):  # seconds to play: no baseline is read
            missing.append(act)
            continue
        wanted = _comparable(experiment_record(act.experiment))
        matching = [
            (str(doc.get("started_at", "")), path)
            for path, doc in journals
            if isinstance(doc.get("experiment"), dict)
            and _comparable(doc["experiment"]) == wanted
            and (doc.get("context") or {}).get("runtime") == runtime
        ]
        if matching:
            found.append(result_of(act, max(matching)[1]))
        else:
            missing.append(act)
    return found, missing
