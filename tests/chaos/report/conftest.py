"""Journals recorded from real runs on the process runtime, for the report tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

JOURNALS = Path(__file__).parent / "journals"
#: `chaosbed run chaos/experiments/catalog-hung-retry-storm.yaml` (held; breakers open)
HUNG = JOURNALS / "catalog-hung-retry-storm.json"
#: `chaosbed run chaos/experiments/playback-catalog-errors-over-budget.yaml` (deviated)
OVER_BUDGET = JOURNALS / "playback-catalog-errors-over-budget.json"
#: `CHAOSBED_MUTANT=no-cached-popular chaosbed up`, then `chaosbed explore` (deviated:
#: 8 of 99 executions broke the contract, each fault of recommendations -> catalog /popular)
EXPLORED = JOURNALS / "explore-no-cached-popular.json"


@pytest.fixture
def hung() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(HUNG.read_text())
    return doc


@pytest.fixture
def over_budget() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(OVER_BUDGET.read_text())
    return doc


@pytest.fixture
def explored() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(EXPLORED.read_text())
    return doc


#: `chaosbed run chaos/experiments/profiles-slow-cohort-compared.yaml` when its fault was
#: 800 ms (deviated: the experiment cohort's homepages 60x slower than the control's, as
#: successful)
COMPARED = JOURNALS / "profiles-slow-cohort-compared.json"
#: catalog-title-errors-cohort-compared.yaml with title-success `critical: true` and 25%
#: of members in each cohort (aborted: the comparison stopped the method at look 8)
STOPPED = JOURNALS / "catalog-title-errors-stopped.json"
