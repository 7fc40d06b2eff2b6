"""`chaosbed` over a tiny stack, as a program of its own (to be interrupted by a real signal).

python -m tests.chaos.cli.tiny_cli ALPHA_PORT BETA_PORT up --state-dir DIR ...
"""

from __future__ import annotations

import sys

from chaos.cli import RuntimeChoice, main
from chaos.runtime import ProcessRuntime, RestartPolicy, ServiceSpec

TINY = "tests.chaos.runtime.process.tiny_service"


def tiny_runtime(alpha_port: int, beta_port: int, choice: RuntimeChoice) -> ProcessRuntime:
    services = (
        ServiceSpec("alpha", TINY, alpha_port),
        ServiceSpec("beta", TINY, beta_port, ("alpha",)),
    )
    policy = RestartPolicy(backoff_initial_s=0.05, stop_grace_s=2.0)
    return ProcessRuntime(
        choice.state_dir,
        services=services,
        policy=policy,
        ready_timeout_s=choice.ready_timeout_s or 60.0,
        prometheus=None,
    )


if __name__ == "__main__":
    alpha, beta = int(sys.argv[1]), int(sys.argv[2])
    sys.exit(main(sys.argv[3:], make_runtime=lambda choice: tiny_runtime(alpha, beta, choice)))
