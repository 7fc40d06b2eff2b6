"""The history file: device types and fault windows round-trip; old files still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaos.history import HistoryError, load_history, save_history, value_preferences

from .histories import history, write

OLD_INVOKE = {
    "type": "invoke",
    "op": 0,
    "device": "d0",
    "kind": "write",
    "member": "m",
    "replica": "profiles",
    "value": 5,
    "base_version": None,
    "at": 1.0,
}


def test_device_types_and_fault_windows_survive_a_save_and_load(tmp_path: Path) -> None:
    saved = history(
        [write(0, 5, 1, 0.0, device="d2")],
        {"m": (1, value_preferences(5))},
        heal_at=9.0,
        faults=((2.0, 8.5),),
    )
    path = tmp_path / "history.jsonl"
    save_history(path, saved)
    loaded = load_history(path)
    assert loaded.ops[0].device_type == "web" and loaded.faults == ((2.0, 8.5),)
    assert loaded.ops == saved.ops and loaded.heal_at == 9.0


def test_an_op_of_a_file_from_before_device_types_loads_as_unknown(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(OLD_INVOKE) + "\n")
    assert load_history(path).ops[0].device_type == "unknown"


def test_a_device_type_that_is_not_text_names_its_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(OLD_INVOKE | {"device_type": 3}) + "\n")
    with pytest.raises(HistoryError, match="line 1: field 'device_type'"):
        load_history(path)


def test_a_fault_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"type": "fault", "start": 5.0, "end": 4.0}) + "\n")
    with pytest.raises(HistoryError, match="line 1: field 'end'"):
        load_history(path)
