"""Generated histories (hypothesis): a valid one is judged valid; each anomaly
planted in one is found, by the op id of the operation that shows it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chaos.history import check_history, value_preferences

from .histories import MEMBERS, Generated, read, valid_histories, write


def _acked(made: Generated, data: st.DataObject) -> int:
    ids = [op.id for op in made.ops if op.is_write and op.status == "ok"]
    return data.draw(st.sampled_from(ids))


@given(valid_histories())
def test_a_generated_valid_history_is_judged_valid(made: Generated) -> None:
    report = check_history(made.history())
    assert report.valid, report.findings
    assert report.findings == ()


@given(valid_histories(), st.data())
def test_a_second_write_acknowledged_at_a_taken_version_is_a_conflict_naming_both(
    made: Generated, data: st.DataObject
) -> None:
    first = made.ops[_acked(made, data)]
    assert first.version is not None
    second = made.add(write(0, made.fresh(), first.version, made.tick(), member=first.member))
    report = check_history(made.history())
    assert not report.valid
    assert any({first.id, second.id} <= set(f.ops) for f in report.findings if f.kind == "conflict")


@given(valid_histories(), st.sampled_from(MEMBERS), st.sampled_from(["HTTP 400", "HTTP 409"]))
def test_a_definitely_failed_write_seen_at_the_end_is_unwritten(
    made: Generated, member: str, error: str
) -> None:
    failed = made.add(
        write(0, made.fresh(), None, made.tick(), member=member, status="fail", error=error)
    )
    version = made.current.get(member, (0, 0))[0] + 1
    made.current[member] = (version, failed.value or 0)
    report = check_history(made.history())
    assert not report.valid and failed.id in report.unwritten


@given(valid_histories(), st.sampled_from(MEMBERS))
def test_a_read_of_a_value_never_written_is_unwritten(made: Generated, member: str) -> None:
    version = made.current.get(member, (0, 0))[0] + 1
    seen = made.add(read(0, made.fresh(), version, made.tick(), member=member))
    report = check_history(made.history())
    assert not report.valid and seen.id in report.unwritten


@given(valid_histories(), st.sampled_from(MEMBERS))
def test_an_acknowledged_write_without_a_version_seen_nowhere_is_lost(
    made: Generated, member: str
) -> None:
    vanished = made.add(write(0, made.fresh(), None, made.tick(), member=member))
    report = check_history(made.history())
    assert report.lost == (vanished.id,) and not report.valid


@given(valid_histories(), st.sampled_from(MEMBERS))
def test_a_write_seen_then_overwritten_in_place_is_lost(made: Generated, member: str) -> None:
    version = made.current.get(member, (0, 0))[0] + 1
    first = made.add(write(0, made.fresh(), version, made.tick(), member=member))
    made.add(read(0, first.value or 0, version, made.tick(), member=member))
    second = made.add(write(0, made.fresh(), version, made.tick(), member=member))
    made.current[member] = (version, second.value or 0)
    report = check_history(made.history())
    assert first.id in report.lost and not report.valid


@given(valid_histories(), st.data())
def test_an_acknowledged_write_above_the_final_version_is_lost(
    made: Generated, data: st.DataObject
) -> None:
    member = data.draw(st.sampled_from(sorted(made.current)))
    version = made.current[member][0]
    dropped = made.add(write(0, made.fresh(), version + 1, made.tick(), member=member))
    report = check_history(made.history())
    assert report.lost == (dropped.id,) and not report.valid


@given(valid_histories(), st.sampled_from(MEMBERS), st.floats(6.0, 60.0))
def test_a_stale_read_outside_the_fault_windows_decides(
    made: Generated, member: str, later: float
) -> None:
    base = made.current.get(member, (0, 0))[0]
    old = made.add(write(0, made.fresh(), base + 1, made.tick(), member=member))
    new = made.add(write(0, made.fresh(), base + 2, made.tick(), member=member))
    made.current[member] = (base + 2, new.value or 0)
    made.at += later
    stale = made.add(read(0, old.value or 0, base + 1, made.tick(), member=member))
    report = check_history(made.history(), bound_s=5.0)
    assert report.stale == (stale.id,) and not report.valid


@given(valid_histories(), st.sampled_from(MEMBERS), st.floats(6.0, 60.0))
def test_a_stale_read_inside_a_fault_window_is_reported_and_does_not_decide(
    made: Generated, member: str, later: float
) -> None:
    base = made.current.get(member, (0, 0))[0]
    old = made.add(write(0, made.fresh(), base + 1, made.tick(), member=member))
    new = made.add(write(0, made.fresh(), base + 2, made.tick(), member=member))
    made.current[member] = (base + 2, new.value or 0)
    made.at += later
    stale = made.add(read(0, old.value or 0, base + 1, made.tick(), member=member))
    report = check_history(made.history(faults=((made.at - 1.0, made.at + 1.0),)), bound_s=5.0)
    assert report.stale_in_faults == (stale.id,) and report.stale == () and report.valid


@given(valid_histories(), st.data(), st.sampled_from(["maturity_level", "favourite_genres"]))
def test_a_partial_final_state_is_blamed_on_the_device_type_of_its_write(
    made: Generated, data: st.DataObject, name: str
) -> None:
    member = data.draw(st.sampled_from(sorted(made.current)))
    version, value = made.current[member]
    writer = next(op for op in made.ops if op.member == member and op.value == value)
    mixed = dict(value_preferences(value))
    other = value_preferences(value + 1 if value % 2 else value - 1)[name]
    mixed[name] = other if other != mixed[name] else value_preferences(value + 2)[name]
    if mixed == value_preferences(value):
        return
    final = made.history()
    assert final.final is not None
    states = {r: {**held, member: (version, mixed)} for r, held in final.final.states.items()}
    judged = final.__class__(final.ops, final.heal_at, final.final.__class__(states, 0.5, 1e9))
    report = check_history(judged)
    partial = [f for f in report.findings if f.kind == "partial"]
    assert not report.valid and {f.ops for f in partial} == {(writer.id,)}
    assert report.by_device_type[writer.device_type]["partial"] == len(partial) == 3
