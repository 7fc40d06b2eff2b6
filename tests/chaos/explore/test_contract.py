"""The explore contract: read with errors that name the file and field; the
three rules every execution is held to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chaos.explore import DEFAULT_CONTRACT, ContractError, load_contract
from chaos.explore.contract import rule_violations


def test_the_shipped_contract_loads_and_says_what_the_homepage_may_become() -> None:
    contract = load_contract(DEFAULT_CONTRACT)
    assert contract.accepts(
        "homepage", "recommendations -> profiles", "degraded:default_preferences"
    )
    assert not contract.accepts("homepage", "recommendations -> profiles", "failed:503")
    assert contract.accepts("title", "anything -> else", "ok")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("journeys: [1]", "journeys: a mapping"),
        ("journeys: {lunch: {'*': [ok]}}", "journeys.lunch: not a journey"),
        ("journeys: {play: {'playback': [ok]}}", "'playback' is not `caller -> dependency`"),
        ("journeys: {play: {'*': ok}}", "journeys.play.*: a list of outcomes"),
        ("journeys: {play: {'*': [fine]}}", "'fine' is not ok, degraded:... or failed:..."),
        ("journeys: {play: [", "not YAML"),
    ],
)
def test_a_bad_contract_is_refused_naming_the_file_and_the_field(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    with pytest.raises(ContractError) as raised:
        load_contract(path)
    assert str(path) in str(raised.value) and says in str(raised.value)
    assert raised.value.exit_code == 2


def test_a_missing_site_allows_ok_only_and_patterns_match(tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text("journeys: {play: {'a -> b': ['degraded:*']}}")
    contract = load_contract(path)
    assert contract.accepts("play", "a -> b", "degraded:cached_title")
    assert not contract.accepts("play", "a -> b", "ok")
    assert contract.accepts("play", "c -> d", "ok") and not contract.accepts(
        "play", "c -> d", "failed:503"
    )


def _call(attempt: int, method: str = "GET", keyed: bool = False, **more: Any) -> dict[str, Any]:
    return {"service": "a", "dependency": "b", "method": method, "route": "/r",
            "attempt": attempt, "keyed": keyed, "calls": [], **more}  # fmt: skip


def test_the_three_rules() -> None:
    assert rule_violations(200, [_call(1), _call(2), _call(3)], {"b": 3}) == []
    assert rule_violations(500, [], {}) == ["answered 500 (an unhandled error)"]
    (over,) = rule_violations(200, [_call(4)], {"b": 3})
    assert "a -> b /r: try 4 of at most 3" == over
    (unkeyed,) = rule_violations(200, [_call(1, "POST"), _call(2, "POST")], {"b": 3})
    assert "retried (try 2) without an Idempotency-Key" in unkeyed
    assert rule_violations(200, [_call(2, "PATCH", keyed=True)], {"b": 3}) == []
    nested = _call(1, calls=[_call(2, "POST")])
    assert len(rule_violations(200, [nested], {"b": 3})) == 1  # on any hop


def test_two_sites_failing_at_once_are_judged_by_both() -> None:
    contract = load_contract(DEFAULT_CONTRACT)
    sites = ["recommendations -> profiles", "recommendations -> catalog"]
    both = "degraded:default_preferences+cached_popular"
    assert contract.accepts_together("homepage", sites, both)
    assert contract.accepts_together("homepage", sites, "ok")
    assert not contract.accepts_together("homepage", sites, "degraded:default_preferences+other")
    assert not contract.accepts_together("homepage", sites, "failed:503")
    play = ["playback -> catalog", "playback -> profiles"]
    assert contract.accepts_together("play", play, "failed:503+upstream")  # catalog's allowance
