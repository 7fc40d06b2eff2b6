"""Recording a start in the member's play log at profiles (``POST /profiles/{member}/plays``).

The append is not idempotent (services/profiles/plays.py): sent twice, it is
recorded twice. So the call is marked non-idempotent and gets one try, never
a retry, whatever fails; a play that could not be recorded is logged and the
start goes on (the member is already watching).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from services.common import Dependency, DependencyError

log = logging.getLogger(__name__)


async def record_play(profiles: Dependency, member: str, title: int) -> bool:
    """Append one play; True when profiles recorded it (201)."""
    try:
        response = await profiles.request(
            "POST",
            f"/profiles/{quote(member, safe='')}/plays",
            json={"title": title},
            idempotent=False,
        )
    except DependencyError as exc:
        log.debug("play of %s not recorded: %s", member, exc)
        return False
    return response.status == 201
