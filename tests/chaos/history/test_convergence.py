"""Catch-up after the heal: timed from the heal, from rounds of reads of every replica."""

from __future__ import annotations

import pytest

from chaos.history.convergence import Round, caught_up_after, target_at

from .histories import write


def _round(at: float, **versions: int | None) -> Round:
    held = {r: (None if v is None else {"m": v}) for r, v in versions.items()}
    return Round(at, at + 0.05, held)


def test_replicas_that_agree_at_once_caught_up_at_once_however_late_it_is_asked() -> None:
    rounds = [_round(99.0, a=3, b=3), *(_round(100.0 + i, a=3, b=3) for i in range(13))]
    assert caught_up_after(100.0, rounds, target_at(100.0, rounds, [])) == pytest.approx(0.05)


def test_a_replica_behind_at_the_heal_is_caught_up_when_it_holds_the_newest_version() -> None:
    rounds = [_round(99.0, a=3, b=1), _round(100.2, a=3, b=2), _round(101.0, a=4, b=3)]
    assert caught_up_after(100.0, rounds, target_at(100.0, rounds, [])) == pytest.approx(1.05)


def test_a_write_acknowledged_before_the_heal_must_reach_every_replica() -> None:
    rounds = [_round(99.0, a=1, b=1), _round(100.5, a=1, b=1), _round(102.0, a=2, b=2)]
    target = target_at(100.0, rounds, [write(0, 5, 2, 98.0)])
    assert target == {"m": 2} and caught_up_after(100.0, rounds, target) == pytest.approx(2.05)


def test_a_replica_that_does_not_answer_has_not_caught_up() -> None:
    rounds = [_round(99.0, a=1, b=1), _round(100.5, a=1, b=None)]
    assert caught_up_after(100.0, rounds, target_at(100.0, rounds, [])) is None


def test_a_round_begun_before_the_heal_does_not_count() -> None:
    rounds = [Round(99.9, 100.1, {"a": {"m": 1}, "b": {"m": 1}})]
    assert caught_up_after(100.0, rounds, {"m": 1}) is None
