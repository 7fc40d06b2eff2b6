"""A game day: a titled, narrated sequence of experiments run one after another."""

from __future__ import annotations

from dataclasses import dataclass

from chaos.explore.exploration import Playable

__all__ = ["Act", "GameDay"]


@dataclass(frozen=True)
class Act:
    """One experiment of a game day, with what the people in the room are told.

    `before` is said before it starts (what happens next), `expect` what we
    expect to see, `narration` after it (what to look at in what we saw).
    `pause`: wait for Enter before it starts (skipped with --no-pause and
    when stdin is not a terminal).
    """

    name: str
    experiment: Playable
    """An experiment, or an exploration (`chaosbed explore` as a file)."""
    before: str = ""
    expect: str = ""
    narration: str = ""
    pause: bool = False


@dataclass(frozen=True)
class GameDay:
    title: str
    narration: str
    source: str
    acts: tuple[Act, ...]
