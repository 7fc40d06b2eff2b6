"""The checker's rules, one hand-made history each: what was judged valid before is not."""

from __future__ import annotations

from dataclasses import replace

from chaos.history import check_history, value_preferences

from .histories import history, read, write

A, B, C, F = 11, 12, 13, 99


def test_two_reads_of_one_version_with_different_values_are_a_conflict_naming_both() -> None:
    ops = [
        write(0, A, 1, 0.0),
        write(1, B, 1, 1.0),
        read(2, A, 1, 2.0),
        read(3, B, 1, 3.0),
        write(4, C, 2, 4.0),
    ]
    report = check_history(history(ops, {"m": (2, value_preferences(C))}))
    assert not report.valid and {0, 1} <= set(report.conflicts)


def test_a_final_state_holding_a_write_that_failed_with_a_400_is_unwritten() -> None:
    ops = [write(0, A, 1, 0.0), write(1, F, None, 1.0, status="fail", error="HTTP 400")]
    report = check_history(history(ops, {"m": (2, value_preferences(F))}))
    assert not report.valid and report.unwritten == (1,)


def test_a_read_of_a_value_no_operation_wrote_is_unwritten() -> None:
    ops = [write(0, A, 1, 0.0), read(1, F, 1, 1.0)]
    report = check_history(history(ops, {"m": (1, value_preferences(A))}))
    assert not report.valid and report.unwritten == (1,)


def test_an_acknowledged_write_without_a_version_seen_nowhere_is_lost() -> None:
    ops = [write(0, A, 1, 0.0), write(1, B, None, 1.0)]
    report = check_history(history(ops, {"m": (1, value_preferences(A))}))
    assert report.lost == (1,) and not report.valid


def test_an_acknowledged_write_without_a_version_seen_at_the_end_is_not_lost() -> None:
    ops = [write(0, A, 1, 0.0), write(1, B, None, 1.0)]
    report = check_history(history(ops, {"m": (2, value_preferences(B))}))
    assert report.lost == () and report.valid


def test_a_write_seen_once_then_overwritten_in_place_is_lost() -> None:
    ops = [write(0, A, 1, 0.0), read(1, A, 1, 1.0), write(2, B, 1, 2.0)]
    report = check_history(history(ops, {"m": (1, value_preferences(B))}))
    assert report.lost == (0,) and set(report.conflicts) >= {0, 2} and not report.valid


def test_a_stale_read_outside_the_fault_windows_decides() -> None:
    ops = [write(0, A, 1, 0.0), write(1, B, 2, 1.0), read(2, A, 1, 20.0)]
    report = check_history(history(ops, {"m": (2, value_preferences(B))}), bound_s=5.0)
    assert report.stale == (2,) and not report.valid


def test_a_stale_read_inside_a_fault_window_is_reported_only() -> None:
    ops = [write(0, A, 1, 0.0), write(1, B, 2, 1.0), read(2, A, 1, 20.0)]
    judged = history(ops, {"m": (2, value_preferences(B))}, faults=((15.0, 18.0),))
    report = check_history(judged, bound_s=5.0)
    assert report.stale == () and report.stale_in_faults == (2,) and report.valid


def test_a_stale_read_later_than_bound_after_the_fault_decides() -> None:
    ops = [write(0, A, 1, 0.0), write(1, B, 2, 1.0), read(2, A, 1, 30.0)]
    judged = history(ops, {"m": (2, value_preferences(B))}, faults=((15.0, 18.0),))
    assert check_history(judged, bound_s=5.0).stale == (2,)


def test_a_history_with_no_acknowledged_write_cannot_be_valid() -> None:
    ops = [write(0, A, None, 0.0, status="fail", error="HTTP 503")]
    assert not check_history(history(ops, {})).valid


def test_a_history_without_final_states_cannot_be_valid() -> None:
    judged = history([write(0, A, 1, 0.0)], {})
    assert not check_history(judged.__class__(judged.ops)).valid


def test_findings_are_counted_for_the_device_type_of_the_write_they_blame() -> None:
    ops = [write(0, A, 1, 0.0, device="d0"), write(1, B, 2, 1.0, device="d1")]
    report = check_history(history(ops, {"m": (1, value_preferences(A))}))
    assert report.by_device_type == {"mobile": {"lost": 1}}


def test_a_mixed_version_whose_write_went_unanswered_is_blamed_on_that_write() -> None:
    # web wrote A as v1; a TV sync of B never got its answer (the replica restarted)
    # but made v2 holding B's maturity level over A's other fields: the TV write is
    # partial, not the web write whose fields were merely left in place
    mixed = {**value_preferences(A), "maturity_level": value_preferences(B)["maturity_level"]}
    assert mixed != value_preferences(A)
    ops = [
        write(0, A, 1, 0.0, device="d2"),
        write(1, B, None, 1.0, device="d0", status="info", kind="sync"),
        replace(read(2, A, 2, 2.0, device="d1"), preferences=mixed),
    ]
    report = check_history(history(ops, {"m": (2, mixed)}))
    partial = [f for f in report.findings if f.kind == "partial"]
    assert len(partial) == 4 and {f.device_type for f in partial} == {"tv"}
    assert partial[0].ops == (2, 1) and "written by op 1 (tv)" in partial[0].detail


def test_a_mixed_version_that_writes_of_two_device_types_explain_is_blamed_on_neither() -> None:
    mixed = {**value_preferences(A), "maturity_level": value_preferences(B)["maturity_level"]}
    also = 17  # mobile's unanswered write would have set the same maturity level
    assert value_preferences(also)["maturity_level"] == mixed["maturity_level"]
    ops = [
        write(0, A, 1, 0.0, device="d2"),
        write(1, B, None, 1.0, device="d0", status="info"),
        write(2, also, None, 1.1, device="d1", status="info"),
    ]
    report = check_history(history(ops, {"m": (2, mixed)}))
    partial = [f for f in report.findings if f.kind == "partial"]
    assert partial and all(
        f.ops == () and f.device_type not in ("web", "tv", "mobile") for f in partial
    )


def test_unanswered_writes_of_one_device_type_blame_the_type_but_name_no_write() -> None:
    mixed = {**value_preferences(A), "maturity_level": value_preferences(B)["maturity_level"]}
    also = 17  # same maturity level as B, also from a TV
    ops = [
        write(0, A, 1, 0.0, device="d2"),
        write(1, B, None, 1.0, device="d0", status="info", kind="sync"),
        write(2, also, None, 1.1, device="d4", status="info"),
        replace(read(3, A, 2, 2.0, device="d1"), preferences=mixed),
    ]
    report = check_history(history(ops, {"m": (2, mixed)}))
    partial = [f for f in report.findings if f.kind == "partial"]
    assert partial and all(f.device_type == "tv" and f.writer is None for f in partial)
    assert report.by_device_type["tv"]["partial"] == len(partial)


def test_a_write_acknowledged_with_a_later_version_may_have_made_the_mixed_one() -> None:
    # one version per field: B's first field made v2 over A, its answer carried v3
    mixed = {**value_preferences(A), "maturity_level": value_preferences(B)["maturity_level"]}
    ops = [
        write(0, A, 1, 0.0, device="d2"),
        write(1, B, 3, 1.0, device="d0"),
        replace(read(2, A, 2, 2.0, device="d1"), preferences=mixed),
    ]
    report = check_history(history(ops, {"m": (3, value_preferences(B))}))
    (partial,) = [f for f in report.findings if f.kind == "partial"]
    assert partial.writer == 1 and partial.device_type == "tv"


def test_a_write_invoked_after_the_mixed_version_was_read_did_not_make_it() -> None:
    mixed = {**value_preferences(A), "maturity_level": value_preferences(B)["maturity_level"]}
    ops = [
        write(0, A, 1, 0.0, device="d2"),
        replace(read(1, A, 2, 2.0, device="d1"), preferences=mixed),
        write(2, B, None, 3.0, device="d0", status="info"),  # after the read: not its maker
    ]
    report = check_history(history(ops, {"m": (1, value_preferences(A))}))
    (partial,) = [f for f in report.findings if f.kind == "partial"]
    assert partial.writer is None and partial.device_type == "unknown"
