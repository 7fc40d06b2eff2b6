"""The member id: how every service names a member.

1 to 64 characters of A-Z, a-z, 0-9, "_" or "-", so an id is safe in a URL
path, a log line and a database key as it is.
"""

from __future__ import annotations

import re

from services.common.errors import InvalidField

MEMBER_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
MEMBER_RULE = "must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'"


def parse_member(raw: object) -> str:
    """`raw` when it is a valid member id; `InvalidField("member")` otherwise."""
    if not isinstance(raw, str) or not MEMBER_PATTERN.fullmatch(raw):
        raise InvalidField("member", MEMBER_RULE)
    return raw
