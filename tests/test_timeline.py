"""tests/timeline.py: a suite run's lanes, slot-minutes and the machine's CPU pressure
from the lines the workers append."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import timeline

FILE = "tests/chaos/experiments/test_library_docker_1.py"


def record(test: str, what: str, at: float, **fields: object) -> dict[str, object]:
    return {"worker": "gw0", "test": test, "what": what, "at": at} | fields


def test_a_files_pressure_is_its_tests_stalled_time_over_their_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = f"{FILE}::a", f"{FILE}::b"
    lines = [
        record(one, "start", 0.0, cpu_stalled_us=0),
        record(one, "slot", 10.0, asked=0.0, slots=1),
        record(one, "end", 60.0, cpu_stalled_us=30_000_000),  # 30 s stalled in 60
        record(two, "start", 60.0, cpu_stalled_us=30_000_000),
        record(two, "failed", 119.0, when="call"),
        record(two, "end", 120.0, cpu_stalled_us=36_000_000),  # 6 s in 60
    ]
    files, start, end = timeline.spans(lines)
    span = files[FILE]
    assert (span.tests, span.waited, span.slot_seconds) == (2, 10.0, 50.0)
    assert timeline.pressure(span) == "30%"  # 36 s of 120
    assert timeline.pressure_by_minute(lines, start) == ["  0:  50%", "  1:  10%"]
    path = tmp_path / "timeline.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert timeline.main([str(path)]) == 0
    out = capsys.readouterr().out
    assert " 30% " in out and "0:  50%" in out
    assert f"failed: 1\n   2.0 gw0 {two} (call)" in out


def test_lines_from_before_the_pressure_was_recorded_show_none() -> None:
    lines = [record(f"{FILE}::a", "start", 0.0), record(f"{FILE}::a", "end", 30.0)]
    files, start, _ = timeline.spans(lines)
    assert timeline.pressure(files[FILE]) == "-"
    assert timeline.pressure_by_minute(lines, start) == []


def test_an_interval_across_minutes_is_shared_out_among_them() -> None:
    test = f"{FILE}::a"
    lines = [
        record(test, "start", 30.0, cpu_stalled_us=0),
        record(test, "end", 150.0, cpu_stalled_us=60_000_000),  # half of 120 s, evenly
    ]
    _, start, _ = timeline.spans(lines)
    assert timeline.pressure_by_minute(lines, start) == ["  0:  50%", "  1:  50%"]


def test_a_start_that_floats_cannot_hold_exactly_still_ends() -> None:
    """An interval's share among minutes counts by minute, not by stepping a float (a
    start of 90.48843869574763 made such a step stand still)."""
    test = f"{FILE}::a"
    lines = [
        record(test, "start", 90.48843869574763, cpu_stalled_us=0),
        record(test, "end", 330.48843869574763, cpu_stalled_us=24_000_000),
    ]
    _, start, _ = timeline.spans(lines)
    assert timeline.pressure_by_minute(lines, start) == [f"{m:3}:  10%" for m in range(4)]


def test_a_file_still_being_written_is_read_up_to_its_last_whole_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test = f"{FILE}::a"
    whole = [record(test, "start", 0.0), record(test, "failed", 30.0, when="call")]
    path = tmp_path / "timeline.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in whole) + '{"worker": "gw')
    assert timeline.main([str(path)]) == 0
    assert f"failed: 1\n   0.5 gw0 {test} (call)" in capsys.readouterr().out
