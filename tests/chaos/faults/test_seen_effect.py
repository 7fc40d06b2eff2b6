"""Process and network faults are verified by what callers and members saw,
read from the SLI backend (a real scrape of the four real services on
loopback): a fault nobody noticed fails its step naming it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Literal

import pytest
from aiohttp import web

from chaos.experiment.model import Edge, NetworkFault, ProcessFault, Step
from chaos.faults import effect
from chaos.faults.base import Injection
from chaos.faults.errors import NoEffect
from chaos.faults.network.driver import evidence
from chaos.faults.process import ProcessFaultDriver
from chaos.slo import SliReader
from services.topology import Metric
from tests.waiting import until

from ..runner.conftest import Stack, start_stack


@contextlib.asynccontextmanager
async def stack_with(
    tmp_path: Path, dependency: Mapping[str, object] | None = None
) -> AsyncIterator[tuple[Stack, list[web.AppRunner]]]:
    """The four services (`dependency` overriding their callers' settings) and their runners."""
    stack, runners = await start_stack(tmp_path, dependency)
    try:
        yield stack, runners
    finally:
        await stack.session.close()
        for runner in reversed(runners):
            await runner.cleanup()


@pytest.fixture
async def stack_and_runners(tmp_path: Path) -> AsyncIterator[tuple[Stack, list[web.AppRunner]]]:
    async with stack_with(tmp_path) as started:
        yield started


def driver() -> ProcessFaultDriver:
    return ProcessFaultDriver(None, effect_grace=1.0)  # type: ignore[arg-type]  # no runtime needed


def kill(target: str) -> Step:
    return Step("kill-it", ProcessFault("kill", target), offset=0.0, duration=5.0)


async def test_a_process_fault_nobody_noticed_fails_its_step_naming_it(
    stack_and_runners: tuple[Stack, list[web.AppRunner]],
) -> None:
    stack, _ = stack_and_runners
    since = time.time()
    async with stack.reader(interval=0.2) as reader:
        with pytest.raises(NoEffect) as raised:
            await driver().confirm_effect(kill("catalog"), Injection("kill-it", "process", ""),
                                          reader, since)  # fmt: skip

    message = str(raised.value)
    assert message.startswith("fault kill-it: kill of catalog changed nothing")
    assert "member journeys entering catalog" in message


async def test_callers_failed_calls_to_a_dead_service_confirm_its_kill(
    stack_and_runners: tuple[Stack, list[web.AppRunner]],
) -> None:
    stack, runners = stack_and_runners
    catalog = runners[0]  # start_stack starts catalog first
    since = time.time()
    await catalog.cleanup()  # the catalog is gone, as after SIGKILL
    async with stack.reader(interval=0.2) as reader:
        homepage = f"{stack.url('recommendations')}/recommendations"
        for member in ("m1", "m2", "m3"):  # homepages: recommendations calls catalog
            async with stack.session.get(f"{homepage}/{member}"):
                pass
        injection = Injection("kill-it", "process", "")
        await driver().confirm_effect(kill("catalog"), injection, reader, since)

    assert "calls from any caller to catalog ended error" in injection.effect


async def test_calls_shed_by_a_breaker_an_earlier_fault_left_open_are_no_evidence(
    tmp_path: Path,
) -> None:
    async with stack_with(tmp_path, {"breaker_reset_s": 60.0}) as (stack, runners):
        catalog = runners[0]
        await catalog.cleanup()  # an earlier fault: recommendations' calls fail, its breaker opens
        async with stack.reader(interval=0.2) as reader:
            await homepages(stack, 8, every=0.0)
            await until(breaker_is(reader, OPEN), what="recommendations -> catalog open")
            await asyncio.sleep(0.5)  # its state scraped before the next fault begins
            since = time.time()  # this fault on catalog changes nothing more
            await homepages(stack, 8)
            await until(
                lambda: positive(reader.increase(Metric.DEPENDENCY_CALLS, SHED, since)),
                what="the open breaker shed a call (else the test would prove nothing)",
            )
            with pytest.raises(NoEffect) as raised:
                await driver().confirm_effect(kill("catalog"), Injection("kill-it", "process", ""),
                                              reader, since)  # fmt: skip

    message = str(raised.value)
    assert "kill of catalog changed nothing" in message
    assert "not counted: calls short-circuited and fallbacks of calls from any caller to " in (
        message
    )
    assert "catalog, whose breaker was not closed when it began" in message


async def test_calls_shed_by_a_breaker_the_fault_opened_are_its_evidence(tmp_path: Path) -> None:
    async with stack_with(tmp_path, {"breaker_reset_s": 60.0, "attempts": 1}) as (stack, runners):
        catalog = runners[0]
        async with stack.reader(interval=0.2) as reader:
            await until(breaker_is(reader, CLOSED), what="recommendations -> catalog closed")
            since = time.time()
            await catalog.cleanup()  # this fault opens the breaker
            await homepages(stack, 12)
            injection = Injection("kill-it", "process", "")
            await driver().confirm_effect(kill("catalog"), injection, reader, since)

    assert "calls from any caller to catalog ended short_circuited" in injection.effect


CLOSED, OPEN = 0.0, 1.0
SHED = {"service": "recommendations", "dependency": "catalog", "outcome": "short_circuited"}


async def homepages(stack: Stack, count: int, every: float = 0.1) -> None:
    """`count` homepages (recommendations calls catalog), one each `every` seconds: a
    counter read over a window moves only if scrapes see it before and after."""
    for n in range(count):
        async with stack.session.get(f"{stack.url('recommendations')}/recommendations/m{n}"):
            pass
        await asyncio.sleep(every)


async def positive(read: Awaitable[float | None]) -> bool:
    return (await read or 0.0) > 0


def breaker_is(reader: SliReader, state: float) -> Callable[[], Awaitable[bool]]:
    """Whether recommendations' breaker on catalog was last scraped in `state`."""
    labels = {"service": "recommendations", "dependency": "catalog"}

    async def check() -> bool:
        now = time.time()
        return await reader.max_over(Metric.BREAKER_STATE, labels, now - 0.3, at=now) == state

    return check


async def test_confirm_reads_again_until_the_next_scrape_shows_the_effect() -> None:
    class Late:
        """A backend whose counter shows the failure only from its third read."""

        reads = 0

        async def increase(self, metric: str, labels: Mapping[str, str], since: float) -> float:
            self.reads += 1
            return 2.0 if self.reads > 2 * len(looks) else 0.0

        async def max_over(self, *_: object, **__: object) -> float:
            return 0.0  # every breaker closed

    looks = effect.calls(dependency="catalog")
    said = await effect.confirm("s", "kill of catalog", looks, Late(), time.time(), grace=5, poll=0)  # type: ignore[arg-type]
    assert said.startswith("2 calls from any caller to catalog ended error")


def whats(looks: list[effect.Look]) -> set[str]:
    return {look.what for look in looks}


def test_a_partition_is_seen_by_either_sides_calls_to_the_other() -> None:
    cut = NetworkFault("partition", between=(("playback",), ("profiles",)))
    seen = whats(evidence(cut))
    assert "calls from playback to profiles ended timeout" in seen
    assert "calls from profiles to playback ended timeout" in seen
    assert "fallbacks for calls from playback to profiles" in seen
    assert not any("member" in w for w in seen)


def test_a_one_way_partition_counts_the_replies_lost_the_other_way() -> None:
    cut = NetworkFault("partition", from_=("recommendations",), to=("catalog",))
    seen = whats(evidence(cut))
    assert "calls from recommendations to catalog ended timeout" in seen
    assert "calls from catalog to recommendations ended timeout" in seen


@pytest.mark.parametrize("kind", ["isolate", "loss", "bandwidth"])
def test_a_fault_on_a_service_is_seen_by_its_callers_its_own_calls_or_its_members(
    kind: Literal["isolate", "loss", "bandwidth"],
) -> None:
    fault = NetworkFault(kind, target="recommendations", percent=30, rate_kbit=64)
    seen = whats(evidence(fault))
    assert "calls from any caller to recommendations ended error" in seen
    assert "calls from recommendations to any dependency ended timeout" in seen
    assert "member journeys entering recommendations ended timeout" in seen


def test_loss_on_an_edge_is_seen_by_that_edges_calls() -> None:
    fault = NetworkFault("loss", edge=Edge("playback", "catalog"), percent=20)
    seen = whats(evidence(fault))
    assert "calls from playback to catalog ended timeout" in seen
    assert not any("recommendations" in w or "member" in w for w in seen)


async def test_a_backend_that_cannot_be_read_is_named_not_taken_as_no_effect() -> None:
    class Down:
        async def increase(self, metric: str, labels: Mapping[str, str], since: float) -> float:
            raise ConnectionError("prometheus went away")

        async def max_over(self, *_: object, **__: object) -> float:
            raise ConnectionError("prometheus went away")

    with pytest.raises(Exception) as raised:
        await effect.confirm("s", "kill of catalog", effect.calls(dependency="catalog"),
                             Down(), time.time(), grace=0)  # type: ignore[arg-type]  # fmt: skip
    assert not isinstance(raised.value, NoEffect)
    assert "prometheus went away" in str(raised.value)


async def test_nothing_seen_waits_no_longer_than_the_grace() -> None:
    class Quiet:
        async def increase(self, metric: str, labels: Mapping[str, str], since: float) -> float:
            return 0.0

        async def max_over(self, *_: object, **__: object) -> float | None:
            return None  # no breaker read yet

    started = time.monotonic()
    with pytest.raises(NoEffect):
        await effect.confirm("s", "pause of playback", effect.members("playback"), Quiet(),  # type: ignore[arg-type]
                             time.time(), grace=0.3, poll=0.05)  # fmt: skip
    assert time.monotonic() - started < 2.0
