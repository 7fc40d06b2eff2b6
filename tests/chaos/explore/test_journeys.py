"""What explore sends for each journey and how it names what the member got."""

from __future__ import annotations

import pytest

from chaos.explore.explorer import Execution, Site, _acted, pairs_after
from chaos.explore.journeys import EXPLORED, HOME, outcome_of, pick_title, request_for
from services.common.fault_plans import FAULTS
from services.vocabulary.homes import home_replica


def test_each_journey_is_one_request_of_a_member_homed_away_from_us() -> None:
    for n, journey in enumerate(EXPLORED):
        request = request_for(journey, "xabc", n, title=17)
        assert home_replica(request.member) == HOME
        assert request.path.startswith("/")
    # reads share one member (a cached profile is there for a fallback); writes do not
    assert request_for("play", "xabc", 1).member == request_for("play", "xabc", 2).member
    assert request_for("sync", "xabc", 1).member != request_for("sync", "xabc", 2).member
    assert request_for("play", "xabc", 9, title=17).body == {
        "member": request_for("play", "xabc", 9).member,
        "title": 17,
    }
    assert dict(request_for("preferences", "xabc", 1).headers)["Idempotency-Key"] == "xabc-1"
    with pytest.raises(ValueError, match="journey must be one of"):
        request_for("lunch", "xabc", 1)


@pytest.mark.parametrize(
    ("status", "body", "upstream", "name"),
    [
        (200, {"degraded": False}, None, "ok"),
        (200, {"degraded": True, "fallback": "cached_title"}, None, "degraded:cached_title"),
        (503, {"error": "x"}, "catalog", "failed:503+upstream"),
        (500, None, None, "failed:500"),
        (None, None, None, "failed:none"),
        (201, "not a dict", None, "ok"),
    ],
)
def test_what_the_member_got_is_named(
    status: int | None, body: object, upstream: str | None, name: str
) -> None:
    assert outcome_of(status, body, upstream).name == name


def test_the_title_played_is_one_any_member_may_watch() -> None:
    titles = [{"id": 4, "maturity_rating": "18+"}, {"id": 9, "maturity_rating": "all"}]
    assert pick_title({"titles": titles}) == 9
    with pytest.raises(ValueError, match="no title rated `all`"):
        pick_title({"titles": titles[:1]})


def test_depth_two_pairs_each_fault_with_every_site_its_execution_still_reached() -> None:
    a = Site("s", "a", "GET", "/a")
    b = Site("s", "b", "GET", "/b")

    def call(site: Site) -> dict[str, object]:
        return {"service": site.service, "dependency": site.dependency, "method": site.method,
                "route": site.route, "attempt": 1, "calls": []}  # fmt: skip

    def single(site: Site, fault: str, reached: list[Site]) -> Execution:
        return Execution("homepage", "r", site, fault, 200, "ok", [call(s) for s in reached], 0.1)

    singles = [single(a, "hang", [a, b]), single(b, "500", [b, a]), single(b, "503", [b])]
    pairs = pairs_after(singles)
    # a hang with each fault at b; 500 at b with each fault at a (the pair a-hang/b-500
    # once); 503 at b reached nothing else
    assert len(pairs) == 2 * len(FAULTS) - 1
    assert (a, "hang", (b, "500")) in pairs and (b, "500", (a, "hang")) not in pairs
    assert all(site != other[0] for site, _, other in pairs)


def test_a_fault_no_try_met_is_said_not_to_have_been_tested() -> None:
    a = Site("s", "a", "GET", "/a")
    met = {"service": "s", "dependency": "a", "method": "GET", "route": "/a", "fault": "hang"}
    assert _acted(a, "hang", [met])
    assert not _acted(a, "500", [met]) and not _acted(a, "hang", [{**met, "fault": None}])
    assert _acted(a, "hang", [{**met, "dependency": "b", "fault": None, "calls": [met]}])
