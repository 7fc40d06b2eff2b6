"""What counts as a good answer for a member."""

from __future__ import annotations

import pytest

from chaos.load import outcome_of_status


@pytest.mark.parametrize("status", [200, 201, 204, 304, 400, 403, 404, 409])
def test_answers_below_500_are_ok_a_maturity_denial_and_a_404_included(status: int) -> None:
    assert outcome_of_status(status) == "ok"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_5xx_and_429_are_errors(status: int) -> None:
    assert outcome_of_status(status) == "error"
