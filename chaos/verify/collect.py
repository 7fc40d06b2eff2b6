"""What `chaosbed verify PATHS` runs: every experiment and game day the paths name.

A directory stands for its `*.yaml` files (sorted, not recursive). A file is
a game day when its top level has `experiments:`, an exploration when it has
`explore:`, else an experiment. A
game day's experiments are named `<game day file stem>/<name>`.

A file named on the command line must run on the chosen runtime (else
`chaosbed verify` exits 2); one found in a directory that cannot run here
(e.g. `runtimes: [docker]` on the process runtime) is skipped, with why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from chaos.explore.exploration import load_playable
from chaos.gameday import Act, GameDay, load_gameday

__all__ = ["Skipped", "Suite", "collect"]

#: Every reason an experiment cannot run here ([] when it can).
Problems = Callable[[Act], list[str]]


@dataclass(frozen=True)
class Skipped:
    name: str
    source: str
    why: str


@dataclass(frozen=True)
class Suite:
    acts: tuple[Act, ...]
    skipped: tuple[Skipped, ...]
    invalid: tuple[str, ...]  # problems of files named on the command line
    together: tuple[tuple[str, ...], ...] = ()
    """The names of the acts of each game day file: they run in order on one stack."""


def _is_gameday(path: Path) -> bool:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return False  # the experiment loader says what is wrong with it
    return isinstance(document, dict) and "experiments" in document


def _acts(path: Path) -> list[Act]:
    if _is_gameday(path):
        gameday: GameDay = load_gameday(path)
        return [dataclasses.replace(a, name=f"{path.stem}/{a.name}", pause=False)
                for a in gameday.acts]  # fmt: skip
    return [Act(path.stem, load_playable(path))]


def collect(paths: Sequence[Path], problems: Problems) -> Suite:
    """Load every experiment the paths name (errors propagate: the caller says exit 2)."""
    acts: list[Act] = []
    skipped: list[Skipped] = []
    invalid: list[str] = []
    together: list[tuple[str, ...]] = []
    for path in paths:
        if path.is_dir():
            files = sorted(path.glob("*.yaml"))
            explicit = False
        elif path.is_file():
            files, explicit = [path], True
        else:
            invalid.append(f"{path}: no such file or directory")
            continue
        for file in files:
            found_acts = _acts(file)
            if _is_gameday(file):
                together.append(tuple(a.name for a in found_acts))
            for act in found_acts:
                found = problems(act)
                if not found:
                    acts.append(act)
                elif explicit:
                    invalid += [f"{file}: {act.name}: {p}" for p in found]
                else:
                    skipped.append(Skipped(act.name, str(file), "; ".join(found)))
    names = [a.name for a in acts]
    invalid += [f"{n}: named twice in this suite" for n in dict.fromkeys(names)
                if names.count(n) > 1]  # fmt: skip
    return Suite(tuple(acts), tuple(skipped), tuple(invalid), tuple(together))
