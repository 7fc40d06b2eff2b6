"""The manifest a start returns."""

from __future__ import annotations

from services.playback.manifest import build_manifest, pick_cdn
from services.vocabulary import REGIONS, Title

TITLE = Title(7, "T", ("drama",), "all", REGIONS, 1.0, 2020, 90)
CDNS = ("a.test", "b.test", "c.test")


def test_the_manifest_url_names_the_cdn_title_and_session() -> None:
    manifest = build_manifest(TITLE, "m-1", "US", "s123", CDNS)
    assert manifest["url"] == f"https://{manifest['cdn']}/v1/titles/7/manifest.mpd?session=s123"


def test_a_member_always_gets_the_same_cdn() -> None:
    assert len({pick_cdn("m-1", CDNS) for _ in range(10)}) == 1


def test_members_spread_over_the_cdns() -> None:
    assert {pick_cdn(f"m-{i}", CDNS) for i in range(100)} == set(CDNS)
