"""The checker on synthetic histories (hypothesis): each anomaly is found and named."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chaos.cli.main import main
from chaos.history import (
    FinalStates,
    History,
    Op,
    check_history,
    save_history,
    value_preferences,
    write_of,
)
from chaos.history.values import VALUE_SPACE

values = st.integers(min_value=0, max_value=VALUE_SPACE - 1)


def _write(op_id: int, value: int, version: int, at: float, member: str = "m") -> Op:
    return Op(
        id=op_id,
        device=f"d{op_id % 3}",
        kind="write",
        member=member,
        replica="profiles",
        invoked_at=at,
        value=value,
        status="ok",
        completed_at=at + 0.01,
        version=version,
        preferences=value_preferences(value),
    )


def _history(ops: list[Op], final: dict[str, tuple[int, dict[str, Any]]]) -> History:
    states = {replica: dict(final) for replica in ("profiles", "profiles-eu", "profiles-apac")}
    return History(tuple(ops), 100.0, FinalStates(states, 0.5, 101.0))


@given(st.lists(values, min_size=1, max_size=20, unique=True))
def test_values_name_their_write(numbers: list[int]) -> None:
    assert [write_of(value_preferences(n)) for n in numbers] == numbers


@given(st.lists(values, min_size=1, max_size=15, unique=True))
def test_a_history_where_the_last_write_survives_is_valid(numbers: list[int]) -> None:
    ops = [_write(i, n, i + 1, float(i)) for i, n in enumerate(numbers)]
    final = {"m": (len(numbers), value_preferences(numbers[-1]))}
    report = check_history(_history(ops, final))
    assert report.valid and report.counts["ok"] == len(numbers)


@given(st.lists(values, min_size=2, max_size=15, unique=True), st.data())
def test_an_acknowledged_write_missing_from_the_final_state_is_lost(
    numbers: list[int], data: st.DataObject
) -> None:
    ops = [_write(i, n, i + 1, float(i)) for i, n in enumerate(numbers)]
    survivor = data.draw(st.integers(0, len(numbers) - 2))
    final = {"m": (survivor + 1, value_preferences(numbers[survivor]))}
    report = check_history(_history(ops, final))
    assert set(report.lost) == set(range(survivor + 1, len(numbers)))


@given(values, values)
def test_a_version_number_reused_by_another_value_loses_the_first_write(a: int, b: int) -> None:
    if a == b:
        return
    ops = [_write(0, a, 1, 0.0), _write(1, b, 1, 1.0)]
    report = check_history(_history(ops, {"m": (1, value_preferences(b))}))
    assert report.lost == (0,)


@given(values, values, st.sampled_from(["maturity_level", "subtitles", "favourite_genres"]))
def test_a_read_mixing_fields_of_two_writes_is_partial(a: int, b: int, name: str) -> None:
    mixed = dict(value_preferences(a))
    mixed[name] = value_preferences(b)[name]
    if mixed == value_preferences(a):
        return
    read = Op(
        7,
        "d1",
        "read",
        "m",
        "profiles-eu",
        2.0,
        status="ok",
        completed_at=2.1,
        version=1,
        preferences=mixed,
    )
    ops = [_write(0, a, 1, 0.0), read]
    report = check_history(_history(ops, {"m": (1, value_preferences(a))}))
    assert report.partial == (7,) and report.lost == ()


@given(st.integers(2, 10))
def test_a_device_reading_an_older_version_than_it_saw_is_non_monotonic(newer: int) -> None:
    ops = [
        Op(
            0,
            "d1",
            "read",
            "m",
            "profiles",
            0.0,
            status="ok",
            completed_at=0.1,
            version=newer,
            preferences=value_preferences(newer),
        ),
        Op(
            1,
            "d1",
            "read",
            "m",
            "profiles-eu",
            1.0,
            status="ok",
            completed_at=1.1,
            version=1,
            preferences=value_preferences(1),
        ),
    ]
    report = check_history(_history(ops, {"m": (newer, value_preferences(newer))}))
    assert report.non_monotonic == (1,)


def test_replicas_that_disagree_at_the_end_are_divergent() -> None:
    states = {
        "profiles": {"m": (2, value_preferences(2))},
        "profiles-eu": {"m": (1, value_preferences(1))},
    }
    history = History((), 100.0, FinalStates(states, None, 110.0))
    report = check_history(history)
    assert any(line.startswith("m:") for line in report.divergent) and not report.valid


def test_a_stale_read_before_the_heal_is_reported_during_faults() -> None:
    read = Op(
        1,
        "d2",
        "read",
        "m",
        "profiles-apac",
        20.0,
        status="ok",
        completed_at=20.1,
        version=0,
        preferences=value_preferences(5) | {"languages": ["en"]},
    )
    ops = [_write(0, 5, 1, 0.0), read]
    report = check_history(_history(ops, {"m": (1, value_preferences(5))}), bound_s=5.0)
    assert report.stale_in_faults == (1,) and report.stale == ()


def test_the_cli_checks_a_saved_history_and_names_the_lost_write(tmp_path: Path) -> None:
    ops = [_write(0, 11, 1, 0.0), _write(1, 12, 2, 1.0)]
    path = tmp_path / "history.jsonl"
    save_history(path, _history(ops, {"m": (1, value_preferences(11))}))
    out = io.StringIO()
    code = main(["history", "check", str(path)], out=out, err=io.StringIO())
    assert code == 1
    assert "lost ops: 1" in out.getvalue()


def test_the_cli_names_the_line_and_field_of_a_bad_history(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text('{"type": "invoke", "op": 1, "device": "d"}\n')
    err = io.StringIO()
    assert main(["history", "check", str(path)], out=io.StringIO(), err=err) == 2
    assert "line 1" in err.getvalue() and "'kind'" in err.getvalue()
