"""The suite catches a regression: with a resilience mechanism switched off
on purpose, the library experiment that relies on it deviates."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio

from chaos.experiment import load_experiment
from chaos.runner import Journal, Runner, RunOptions, Verdict
from chaos.runner.load_driver import GeneratorLoad

from ..experiments.library import LIBRARY
from .conftest import start_stack

HUNG_CATALOG = LIBRARY / "catalog-hung-retry-storm.yaml"
BREAKERS_OFF: dict[str, object] = {"breaker_fail_max": 10**6, "breaker_min_calls": 10**6}


async def run_library_experiment(
    path: Path, tmp_path: Path, dependency: dict[str, object] | None
) -> tuple[Verdict, Journal]:
    experiment = load_experiment(path)
    stack, runners = await start_stack(tmp_path, dependency)
    journal = Journal("regression", {"title": experiment.title})
    try:
        async with stack.reader(interval=0.5) as reader:
            assert experiment.load is not None
            outcome = await Runner(
                experiment,
                drivers=[stack.app_driver()],
                reader=reader,
                journal=journal,
                load=GeneratorLoad(experiment.load, stack.targets, metrics_port=stack.load_port),
                options=RunOptions(interval=0.5),
            ).run()
    finally:
        await stack.session.close()
        for runner in reversed(runners):
            await runner.cleanup()
    return outcome.verdict, journal


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def as_shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Verdict, Journal]:
    """The hung catalog on the stack as shipped, run once for the tests that read it
    (40 s)."""
    return await run_library_experiment(HUNG_CATALOG, tmp_path_factory.mktemp("shipped"), None)


async def test_a_hung_catalog_holds_with_the_breakers_on(
    as_shipped: tuple[Verdict, Journal],
) -> None:
    verdict, journal = as_shipped
    assert verdict is Verdict.HELD, journal.reasons


async def test_a_hung_catalog_deviates_with_the_breakers_off(tmp_path: Path) -> None:
    verdict, journal = await run_library_experiment(HUNG_CATALOG, tmp_path, BREAKERS_OFF)
    assert verdict is Verdict.DEVIATED, journal.reasons
    expected = "the breaker on recommendations -> catalog opened"
    assert any(expected in reason for reason in journal.reasons), journal.reasons


async def test_the_journal_records_the_breaker_opening_over_time(
    as_shipped: tuple[Verdict, Journal],
) -> None:
    _, journal = as_shipped
    samples = journal.to_json()["breakers"]
    assert set(samples) >= {"recommendations -> catalog", "playback -> profiles"}
    states = [s["state"] for s in samples["recommendations -> catalog"]]
    assert 1 in states, states  # opened under the hung catalog
    assert states[0] == 0, states  # closed before the fault
