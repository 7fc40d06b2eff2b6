"""The playback manifest a start returns. Pure: the session id comes in."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from services.vocabulary import Title

BITRATES_BPS = (235_000, 750_000, 1_750_000, 3_000_000, 5_800_000)


def pick_cdn(member: str, cdns: Sequence[str]) -> str:
    """A stable CDN per member (crc32, independent of PYTHONHASHSEED)."""
    return cdns[zlib.crc32(member.encode()) % len(cdns)]


def build_manifest(
    title: Title, member: str, region: str, session: str, cdns: Sequence[str]
) -> dict[str, object]:
    cdn = pick_cdn(member, cdns)
    return {
        "url": f"https://{cdn}/v1/titles/{title.id}/manifest.mpd?session={session}",
        "cdn": cdn,
        "protocol": "dash",
        "bitrates": list(BITRATES_BPS),
        "session": session,
        "region": region,
        "runtime_minutes": title.runtime_minutes,
    }
