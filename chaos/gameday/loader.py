"""Reading a game day file: YAML into a validated `GameDay`, or one
`GameDayInvalid` that lists every problem, each naming its field.

    title: Evening peak                 # required
    narration: text said at the start   # optional
    pause: true                         # optional default for every experiment
    experiments:                        # required, at least one
      - experiment: ../experiments/profiles-down.yaml   # relative to this file
        name: profiles-down             # optional (default: the file's stem)
        before: what happens next       # optional texts for the room
        expect: what we expect to see
        narration: what to look at afterwards
        pause: false                    # optional: wait for Enter before it
      - inline: {title: ..., ...}       # or the experiment itself, inline
An entry may name (or hold inline) an exploration instead: a file whose top
level has `explore:` (docs/explore.md).

Every experiment is validated as `chaosbed run` validates a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from chaos.experiment import ExperimentError
from chaos.explore.exploration import Playable, load_playable, load_playable_text

from .errors import GameDayInvalid
from .model import Act, GameDay

__all__ = ["load_gameday", "load_gameday_text"]

TOP_KEYS = ("title", "narration", "pause", "experiments")
ACT_KEYS = ("experiment", "inline", "name", "before", "expect", "narration", "pause")
TEXTS = ("before", "expect", "narration")


def load_gameday(path: str | Path) -> GameDay:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise GameDayInvalid(str(path), [exc.strerror or str(exc)]) from exc
    return load_gameday_text(text, str(path), base=path.parent)


def _text(doc: dict[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = doc.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"{where}{key}: must be text, not {type(value).__name__}")
        return ""
    return value.strip()


def _flag(doc: dict[str, Any], key: str, default: bool, where: str, problems: list[str]) -> bool:
    value = doc.get(key, default)
    if not isinstance(value, bool):
        problems.append(f"{where}{key}: must be true or false, not {value!r}")
        return default
    return value


def _experiment(
    entry: dict[str, Any], where: str, base: Path, source: str, problems: list[str]
) -> tuple[Playable, str] | None:
    has_file, has_inline = "experiment" in entry, "inline" in entry
    if has_file == has_inline:
        problems.append(
            f"{where.rstrip('.')}: give exactly one of `experiment` (a path) or `inline`"
        )
        return None
    try:
        if has_file:
            name = entry["experiment"]
            if not isinstance(name, str) or not name.strip():
                problems.append(f"{where}experiment: must be a path to an experiment file")
                return None
            path = Path(name) if Path(name).is_absolute() else base / name
            if not path.is_file():
                problems.append(f"{where}experiment: no such file: {path}")
                return None
            return load_playable(path), path.stem
        inline = entry["inline"]
        if not isinstance(inline, dict):
            problems.append(f"{where}inline: must be a mapping (an experiment)")
            return None
        text = yaml.safe_dump(inline, sort_keys=False)
        return load_playable_text(text, f"{source} {where}inline"), ""
    except ExperimentError as exc:
        problems.append(f"{where}{'experiment' if has_file else 'inline'}: {exc}")
        return None


def load_gameday_text(text: str, source: str = "<text>", base: Path | None = None) -> GameDay:
    """Validate the game day in `text`; relative experiment paths are taken from `base`."""
    base = base or Path.cwd()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GameDayInvalid(source, [f"not YAML: {exc}"]) from exc
    if not isinstance(doc, dict):
        raise GameDayInvalid(source, ["must be a mapping with title and experiments"])
    problems = [f"{key}: unknown key (expected one of {', '.join(TOP_KEYS)})"
                for key in doc if key not in TOP_KEYS]  # fmt: skip
    title = _text(doc, "title", "", problems)
    if not title:
        problems.append("title: required")
    pause_default = _flag(doc, "pause", False, "", problems)
    entries = doc.get("experiments")
    if not isinstance(entries, list) or not entries:
        problems.append("experiments: required, a list of at least one experiment")
        entries = []
    acts = []
    for index, entry in enumerate(entries):
        where = f"experiments[{index}]."
        if not isinstance(entry, dict):
            problems.append(f"experiments[{index}]: must be a mapping")
            continue
        problems += [f"{where}{key}: unknown key (expected one of {', '.join(ACT_KEYS)})"
                     for key in entry if key not in ACT_KEYS]  # fmt: skip
        found = _experiment(entry, where, base, source, problems)
        texts = {key: _text(entry, key, where, problems) for key in TEXTS}
        name = _text(entry, "name", where, problems)
        pause = _flag(entry, "pause", pause_default, where, problems)
        if found is not None:
            experiment, stem = found
            acts.append(Act(name or stem or f"experiment-{index + 1}", experiment,
                            pause=pause, **texts))  # fmt: skip
    names = [act.name for act in acts]
    problems += [f"experiments: the name {n!r} is used twice (names must differ)"
                 for n in dict.fromkeys(names) if names.count(n) > 1]  # fmt: skip
    if problems:
        raise GameDayInvalid(source, problems)
    return GameDay(title, _text(doc, "narration", "", []), source, tuple(acts))
