"""The member id every service accepts: the same rule everywhere."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import InvalidField
from services.vocabulary import parse_member

ALLOWED = set(string.ascii_letters + string.digits + "_-")


@pytest.mark.parametrize("member", ["m-42", "M_1", "a", "x" * 64])
def test_conservative_member_ids_are_accepted(member: str) -> None:
    assert parse_member(member) == member


@pytest.mark.parametrize(
    "member", ["", "x" * 65, "m 1", "m/1", "m.1", "é", "m-1\n", "٣", None, 42, ["m-1"]]
)
def test_other_member_ids_are_refused_as_member(member: object) -> None:
    with pytest.raises(InvalidField, match="^member: must be 1 to 64 characters") as caught:
        parse_member(member)
    assert caught.value.field == "member"


@given(st.text(max_size=80) | st.text(alphabet=sorted(ALLOWED), max_size=80))
def test_a_text_is_a_member_id_exactly_when_it_is_1_to_64_allowed_characters(raw: str) -> None:
    valid = 1 <= len(raw) <= 64 and set(raw) <= ALLOWED
    try:
        assert parse_member(raw) == raw
    except InvalidField as exc:
        assert exc.field == "member"
        assert not valid
    else:
        assert valid
