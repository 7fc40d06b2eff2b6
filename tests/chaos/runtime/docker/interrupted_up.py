"""`chaosbed up --runtime docker` on the test project, as a program of its own, so that a
test can interrupt it with a real signal:

    python -m tests.chaos.runtime.docker.interrupted_up STATE_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from chaos.cli import main

from .support import runtime_for

if __name__ == "__main__":
    state_dir = Path(sys.argv[1])
    argv = ["up", "--runtime", "docker", "--state-dir", str(state_dir)]
    sys.exit(main(argv, make_runtime=lambda choice: runtime_for(choice.state_dir)))
