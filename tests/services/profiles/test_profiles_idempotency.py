"""Idempotency keys and request fingerprints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import InvalidField
from services.profiles.idempotency import MAX_KEY_LENGTH, fingerprint, parse_key
from services.profiles.validation import parse_patch


def test_fingerprint_ignores_field_order() -> None:
    first = parse_patch({"subtitles": True, "languages": ["fr", "en"]})
    second = parse_patch({"languages": ["fr", "en"], "subtitles": True})
    assert fingerprint("m-1", first) == fingerprint("m-1", second)


def test_fingerprint_differs_for_another_member_or_another_change() -> None:
    patch = parse_patch({"subtitles": True})
    assert fingerprint("m-1", patch) != fingerprint("m-2", patch)
    assert fingerprint("m-1", patch) != fingerprint("m-1", parse_patch({"subtitles": False}))
    assert fingerprint("m-1", parse_patch({"languages": ["fr", "en"]})) != fingerprint(
        "m-1", parse_patch({"languages": ["en", "fr"]})
    )


@pytest.mark.parametrize("raw", [None, "", "has space", "x" * (MAX_KEY_LENGTH + 1), "ключ"])
def test_a_missing_or_malformed_key_is_refused_naming_the_header(raw: str | None) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_key(raw)
    assert caught.value.field == "Idempotency-Key"


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1))
def test_visible_ascii_keys_are_accepted(raw: str) -> None:
    if len(raw) <= MAX_KEY_LENGTH:
        assert parse_key(raw) == raw
