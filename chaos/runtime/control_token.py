"""The control-API token: taken from CHAOSBED_CONTROL_TOKEN or generated, kept in state_dir/token.

The file (mode 0600) lets the chaos runner authenticate later without the
variable in its own environment. A new token is generated on every `up`
unless the variable is set.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from .state_dir import StatePaths, write_atomically

__all__ = ["TOKEN_VARIABLE", "ensure_token", "read_token"]

TOKEN_VARIABLE = "CHAOSBED_CONTROL_TOKEN"


def ensure_token(paths: StatePaths, environ: Mapping[str, str]) -> str:
    token = environ.get(TOKEN_VARIABLE, "").strip() or secrets.token_urlsafe(32)
    write_atomically(paths.token_file, token + "\n", mode=0o600)
    return token


def read_token(paths: StatePaths, environ: Mapping[str, str]) -> str | None:
    """The token the running stack uses: the variable if set, else the file, else None."""
    from_env = environ.get(TOKEN_VARIABLE, "").strip()
    if from_env:
        return from_env
    try:
        return paths.token_file.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None
