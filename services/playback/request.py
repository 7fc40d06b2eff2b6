"""The body of ``POST /playback/start``, validated before anything is called.

``{"member": "m-42", "title": 7, "region": "US"}``; ``region`` is optional
(the service's default region). The kit's `InvalidField` names the first
bad field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common import InvalidField
from services.vocabulary import MAX_TITLE_ID, REGIONS, parse_member


@dataclass(frozen=True)
class StartRequest:
    member: str
    title: int
    region: str


def parse_start_request(body: object, default_region: str) -> StartRequest:
    if not isinstance(body, Mapping):
        raise InvalidField("body", 'must be a JSON object like {"member": "m-42", "title": 7}')
    if "member" not in body:
        raise InvalidField("member", "missing")
    member = parse_member(body["member"])
    if "title" not in body:
        raise InvalidField("title", "missing")
    title = body["title"]
    if isinstance(title, bool) or not isinstance(title, int) or not 1 <= title <= MAX_TITLE_ID:
        raise InvalidField("title", f"must be an integer title id from 1 to {MAX_TITLE_ID}")
    region = body.get("region", default_region)
    if not isinstance(region, str) or region not in REGIONS:
        raise InvalidField("region", f"must be one of {', '.join(REGIONS)}")
    return StartRequest(member=member, title=title, region=region)
