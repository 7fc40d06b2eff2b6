"""The runner's lifecycle on the real services: verdicts, rollback, abort."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path

from chaos.experiment.model import (
    AbortCondition,
    AppFault,
    Availability,
    Experiment,
    FallbackServed,
    Latency,
    LoadSpec,
    NetworkFault,
    Objective,
    RecoveredWithin,
    Slo,
    SteadyState,
    Step,
)
from chaos.faults.standin import StandinDriver
from chaos.runner import Journal, Runner, RunOptions, Verdict
from chaos.runner.load_driver import GeneratorLoad
from chaos.runner.monitor import Reading
from chaos.runner.progress import Progress

from .conftest import Stack

HOMEPAGE_OK = Slo(
    "homepage-ok",
    Availability("recommendations", source="members"),
    Objective(">=", 95.0),
    window=3.0,
)
#: The abort test's SLO: its abort condition (plays below 50%) decides, so the steady
#: state before the fault asks only that plays work: at 95% a clean-clone run read
#: 83.7% over the 2 s warm-up beside the process library (not steady, no abort).
PLAY_OK = Slo("play-ok", Availability("playback", source="members"), Objective(">=", 50.0), 3.0)


def experiment(
    *steps: Step,
    slos: tuple[Slo, ...] = (HOMEPAGE_OK,),
    mix: dict[str, float] | None = None,
    abort_when: tuple[AbortCondition, ...] = (),
    expect: tuple[object, ...] = (),
) -> Experiment:
    return Experiment(
        title="test",
        hypothesis="test",
        load=LoadSpec(rate=30, mix=mix or {"homepage": 100}, members=20, seed=7),
        steady_state=SteadyState(warmup=2.0, slos=slos, hold=1.0),
        method=steps,
        abort_when=abort_when,
        expect=expect,  # type: ignore[arg-type]
    )


async def run(stack: Stack, exp: Experiment, tmp_path: Path) -> tuple[Verdict, Journal]:
    journal = Journal("test", {"title": exp.title})
    app = stack.app_driver()
    async with stack.reader(interval=0.5) as reader:
        runner = Runner(
            exp,
            drivers=[app, StandinDriver(app)],
            reader=reader,
            journal=journal,
            load=GeneratorLoad(exp.load, stack.targets, metrics_port=stack.load_port),  # type: ignore[arg-type]
            options=RunOptions(interval=0.5, recovery_timeout=10.0),
        )
        outcome = await runner.run()
    journal.write(tmp_path / "journal.json")
    return outcome.verdict, journal


async def test_catalog_popular_erroring_holds_on_the_cached_popular_list(
    stack: Stack, tmp_path: Path
) -> None:
    step = Step("popular-503", AppFault("error", target="catalog", route="/popular"), 0.0, 4.0)
    verdict, journal = await run(
        stack,
        experiment(
            step,
            expect=(FallbackServed("recommendations", "cached_popular"), RecoveredWithin(10.0)),
        ),
        tmp_path,
    )
    assert verdict is Verdict.HELD, journal.reasons
    (fault,) = journal.injections
    assert fault.verified_at is not None and fault.rolled_back_at is not None
    assert all(not rules for rules in (await stack.rules()).values())


async def test_steady_state_not_met_injects_nothing(stack: Stack, tmp_path: Path) -> None:
    impossible = Slo(
        "homepage-instant", Latency("recommendations", 99, source="members"), Objective("<", 0.001)
    )
    step = Step("popular-503", AppFault("error", target="catalog", route="/popular"), 0.0, 4.0)
    verdict, journal = await run(stack, experiment(step, slos=(impossible,)), tmp_path)
    assert verdict is Verdict.NOT_STEADY
    assert journal.injections == []
    assert not any(e["event"] == "injected" for e in journal.events)


async def test_an_abort_condition_rolls_every_fault_back_within_a_second(
    stack: Stack, tmp_path: Path
) -> None:
    steps = (
        Step("play-503", AppFault("error", target="playback"), 0.0, 30.0),
        Step("catalog-slow", AppFault("latency", target="catalog", delay_ms=50), 0.0, 30.0),
    )
    started = time.monotonic()
    verdict, journal = await run(
        stack,
        experiment(
            *steps,
            slos=(PLAY_OK,),
            mix={"play": 100},
            abort_when=(AbortCondition("play-ok", below=50.0, for_=0.0),),
        ),
        tmp_path,
    )
    assert verdict is Verdict.ABORTED
    assert time.monotonic() - started < 25, "the method ran on after the abort"
    (abort,) = [e for e in journal.events if e["event"] == "abort"]
    rolled = [e for e in journal.events if e["event"] == "rolled_back"]
    assert len(rolled) == 2
    assert all(e["t"] - abort["t"] < 1.0 for e in rolled), (abort, rolled)
    assert all(not rules for rules in (await stack.rules()).values())


class FailingProgress(Progress):
    """A progress display that breaks once the method has started."""

    def update(self, phase: str, elapsed: float, readings: Mapping[str, Reading]) -> None:
        if phase == "method":
            raise OSError("the terminal went away")


async def test_a_failed_monitor_ends_the_run_and_rolls_back_instead_of_hanging(
    stack: Stack, tmp_path: Path
) -> None:
    exp = experiment(Step("slow", AppFault("latency", target="catalog", delay_ms=5), 0.0, 30.0))
    journal = Journal("test", {"title": exp.title})
    async with asyncio.timeout(40), stack.reader(interval=0.5) as reader:
        outcome = await Runner(
            exp,
            drivers=[stack.app_driver()],
            reader=reader,
            journal=journal,
            load=GeneratorLoad(exp.load, stack.targets, metrics_port=stack.load_port),  # type: ignore[arg-type]
            progress=FailingProgress(None),
            options=RunOptions(interval=0.5),
        ).run()
    # no verdict (exit 5), not aborted: no abort condition judged the system, and
    # `chaosbed mutate` counts an aborted run of a mutant as a catch
    assert outcome.verdict is Verdict.FAILED
    assert any("SLO monitor failed" in reason for reason in outcome.reasons), outcome.reasons
    assert all(not rules for rules in (await stack.rules()).values())


async def test_a_partition_stand_in_drops_the_calls_across_it_and_is_rolled_back(
    stack: Stack, tmp_path: Path
) -> None:
    cut = NetworkFault(
        "partition", between=(("recommendations",), ("profiles",)), standin_allowed=True
    )
    verdict, journal = await run(
        stack,
        experiment(
            Step("cut", cut, 0.0, 4.0),
            expect=(FallbackServed("recommendations", "default_preferences"),),
        ),
        tmp_path,
    )
    assert verdict is Verdict.HELD, journal.reasons
    (fault,) = journal.injections
    assert fault.standin and "listed by recommendations" in fault.verification
    (part,) = fault.handle["parts"]
    assert part.handle["rule"]["edge"] == "recommendations -> profiles"
    assert part.handle["rule"]["kind"] == "drop"
    assert fault.rolled_back_at is not None
    assert all(not rules for rules in (await stack.rules()).values())
