"""Playback: ``POST /playback/start`` checks a start and returns a manifest.

A start needs two facts: the title (does it exist, where is it available,
how is it rated; from catalog) and the member's maturity level (from
profiles). When a dependency fails, playback trades availability against
safety as follows, and says so in the answer (``degraded``, ``fallback``):

- profiles unavailable (down, slow, erroring, unusable answer): use the
  member's profile as last read, if read within ``profile_cache_ttl_s``
  (default 5 minutes; bounded LRU): fallback ``cached_profile``. A change of
  maturity level made during the outage is not seen until profiles is back.
- profiles unavailable and nothing cached: only all-ages titles (rated
  ``all``) start (fallback ``all_ages_only``); others get 503 with reason
  ``profile_unavailable``, outcome ``failed``. We never assume the permissive
  default profile for a member we cannot see: it might be a child's.
- catalog unavailable: use the title as last read within ``title_cache_ttl_s``
  (default 1 hour; bounded LRU): fallback ``cached_title``. With no cached
  copy the start fails (503, reason ``catalog_unavailable``, outcome
  ``failed``): availability and rating cannot be verified, and we do not
  stream what we may not be licensed to stream.
- both: the fallbacks combine, profiles' first: ``"cached_profile+cached_title"``.

Region and maturity refusals are 403 with a ``reason`` (``region`` or
``maturity``), outcome ``denied``.
"""

from .app import create_app
from .settings import PlaybackSettings

__all__ = ["PlaybackSettings", "create_app"]
