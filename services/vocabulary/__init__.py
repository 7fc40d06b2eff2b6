"""The vocabulary chaosbed's services share, owned by none of them.

What a service sends and another reads: the closed sets (genres, maturity
ratings, regions), the title record, the member id and a member's
preferences with their two defaults. Every service imports these from here,
never from another service, so a value valid in one service is valid in all.
"""

from .closed_sets import GENRES, MATURITY_RATINGS, REGIONS, maturity_allows, maturity_rank
from .member import MEMBER_PATTERN, MEMBER_RULE, parse_member
from .preferences import (
    NEW_MEMBER_PREFERENCES,
    PROFILE_UNAVAILABLE_PREFERENCES,
    Preferences,
    preferences_from_profile,
)
from .title import MAX_TITLE_ID, Title

__all__ = [
    "GENRES",
    "MATURITY_RATINGS",
    "MAX_TITLE_ID",
    "MEMBER_PATTERN",
    "MEMBER_RULE",
    "NEW_MEMBER_PREFERENCES",
    "PROFILE_UNAVAILABLE_PREFERENCES",
    "REGIONS",
    "Preferences",
    "Title",
    "maturity_allows",
    "maturity_rank",
    "parse_member",
    "preferences_from_profile",
]
