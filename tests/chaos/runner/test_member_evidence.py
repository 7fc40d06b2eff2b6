"""Members' own counts are evidence that a fault bit even when the backend has
not scraped them (or missed a short outage between two scrapes), and only
what members really got counts."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from chaos.experiment.model import Slo
from chaos.faults import effect
from chaos.faults.errors import NoEffect
from chaos.history import Op, member_outcome
from chaos.load.metrics import LoadMetrics
from chaos.load.outcome import Sample
from chaos.runner.member_evidence import MemberEvidence

MEMBERS = "chaosbed_member_requests_total"


class Blind:
    """A backend that has scraped nothing yet: every counter read is 0."""

    def check(self, slo: Slo) -> None:
        return None

    async def value(self, slo: Slo) -> float | None:
        return None

    async def max_over(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> float | None:
        return 0.0

    async def increase(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> float | None:
        return 0.0


class Members:
    """The load generator's member counters, as the runner's load driver offers them."""

    def __init__(self) -> None:
        self.metrics = LoadMetrics()

    def saw(self, outcome: str, n: int, journey: str = "play") -> None:
        service = {"play": "playback", "title": "catalog"}[journey]
        sample = Sample(journey, service, "experiment", outcome, 200, 0.0, 0.01, 0.0)
        for _ in range(n):
            self.metrics.observe(sample)

    def member_counts(self) -> Mapping[tuple[tuple[str, str], ...], float]:
        return self.metrics.member_counts()

    async def start(self) -> None:
        return None

    async def stop(self) -> Mapping[str, object]:
        return {}


async def test_failures_members_saw_since_the_step_began_confirm_a_kill_the_backend_missed() -> (
    None
):
    members = Members()
    members.saw("error", 7)  # before the step: not its evidence
    evidence = MemberEvidence(Blind(), members)
    members.saw("unreachable", 3)
    members.saw("ok", 50)

    how = await effect.confirm(
        "1-kill", "kill of playback", effect.members("playback"), evidence, 0.0, grace=0.0
    )

    assert how == "3 member journeys entering playback ended unreachable"


async def test_failures_before_the_step_or_of_another_service_are_no_evidence() -> None:
    members = Members()
    members.saw("error", 7)
    evidence = MemberEvidence(Blind(), members)
    members.saw("error", 5, journey="title")  # catalog, not playback
    members.saw("ok", 50)

    with pytest.raises(NoEffect, match="kill of playback changed nothing"):
        await effect.confirm(
            "1-kill", "kill of playback", effect.members("playback"), evidence, 0.0, grace=0.0
        )


async def test_other_counters_are_read_from_the_backend_alone() -> None:
    evidence = MemberEvidence(Blind(), Members())
    assert await evidence.increase("chaosbed_fallbacks_total", {"service": "x"}, 0.0) == 0.0
    assert await evidence.increase(MEMBERS, {"service": "playback"}, 0.0) == 0.0


def device_op(op_id: int, replica: str, status: str = "ok", error: str | None = None) -> Op:
    return Op(
        id=op_id,
        device="d0",
        kind="write",
        member="m",
        replica=replica,
        invoked_at=float(op_id),
        value=op_id,
        status=status,  # type: ignore[arg-type]
        completed_at=float(op_id) + 0.01,
        error=error,
    )


@pytest.mark.parametrize(
    ("status", "error", "seen"),
    [
        ("ok", None, None),
        ("fail", "HTTP 409", None),  # a sync's conflict: the replica answered
        ("fail", "connection refused: [Errno 111] Connect call failed", "unreachable"),
        ("info", "ServerDisconnectedError: Server disconnected", "unreachable"),
        ("info", "ClientOSError: [Errno None] Can not write request body", "unreachable"),
        ("info", "TimeoutError: ", None),  # a busy machine times out too
        ("info", "HTTP 503", None),  # an answer, perhaps about another replica
        ("info", "ClientPayloadError: Response payload is not completed", None),
    ],
)
def test_a_devices_operation_ends_as_the_member_outcome_it_saw(
    status: str, error: str | None, seen: str | None
) -> None:
    assert member_outcome(device_op(1, "profiles-eu", status, error)) == seen


async def test_history_devices_that_lost_the_killed_replica_confirm_the_kill() -> None:
    ops = [device_op(0, "profiles-eu", "info", "TimeoutError: ")]  # before the step
    evidence = MemberEvidence(Blind(), None, lambda: ops)
    ops += [
        device_op(1, "profiles-eu"),
        device_op(2, "profiles", "fail", "connection refused: x"),  # another replica
        device_op(3, "profiles-eu", "fail", "HTTP 409"),
        device_op(4, "profiles-eu", "fail", "connection refused: x"),
        device_op(5, "profiles-eu", "info", "ServerDisconnectedError: x"),
    ]

    how = await effect.confirm(
        "1-kill", "kill of profiles-eu", effect.members("profiles-eu"), evidence, 0.0, grace=0.0
    )

    assert how == "2 member journeys entering profiles-eu ended unreachable"


async def test_devices_that_only_got_answers_are_no_evidence() -> None:
    ops: list[Op] = []
    evidence = MemberEvidence(Blind(), Members(), lambda: ops)
    ops += [device_op(1, "profiles-eu"), device_op(2, "profiles-eu", "fail", "HTTP 409")]
    with pytest.raises(NoEffect, match="kill of profiles-eu changed nothing"):
        await effect.confirm(
            "1-kill", "kill of profiles-eu", effect.members("profiles-eu"), evidence, 0.0, grace=0.0
        )
    # a member counter by journey is the load generator's alone
    assert await evidence.increase(MEMBERS, {"journey": "play", "outcome": "error"}, 0.0) == 0.0
