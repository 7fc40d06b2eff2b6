"""Validating the body of POST /playback/start."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import InvalidField
from services.playback.request import StartRequest, parse_start_request


def test_a_valid_body_with_the_default_region() -> None:
    assert parse_start_request({"member": "m-42", "title": 7}, "US") == StartRequest(
        "m-42", 7, "US"
    )


def test_a_region_in_the_body_wins() -> None:
    assert parse_start_request({"member": "m-42", "title": 7, "region": "JP"}, "US").region == "JP"


def test_the_first_bad_field_is_named() -> None:
    with pytest.raises(InvalidField) as caught:
        parse_start_request({"member": "", "title": "x"}, "US")
    assert caught.value.field == "member"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(["member", "title", "region", "other"]), JSON) | JSON)
def test_any_json_is_accepted_or_refused_naming_a_known_field(body: object) -> None:
    try:
        req = parse_start_request(body, "US")
    except InvalidField as exc:
        assert exc.field in {"body", "member", "title", "region"}
    else:
        assert isinstance(req.title, int) and req.title >= 1
