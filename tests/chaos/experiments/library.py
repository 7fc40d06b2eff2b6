"""The shipped experiment library, for the tests that run it."""

from __future__ import annotations

from pathlib import Path

import chaos

LIBRARY = Path(chaos.__file__).parent / "experiments"
EXPERIMENTS = sorted(LIBRARY.glob("*.yaml"))
PREDICTED_EXIT = {"held": 0, "deviated": 1}
