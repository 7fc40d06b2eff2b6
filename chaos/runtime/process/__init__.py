"""The process runtime: the stack as local processes, supervised, no Docker needed.

runtime.py             ProcessRuntime: up, down, status, and the Runtime interface
instances.py           process-layer faults: kill, hold, stop/start, pause, restart
supervisor.py          the background supervisor (python -m chaos.runtime.process.supervisor)
program.py             what the supervisor runs: a command on a port, with a ready path
prometheus_program.py  Prometheus beside the services: its options, config, and first scrapes
supervised_service.py  one program under the supervisor: start, notice exits, restart
program_status.py      what `status` says about each program
readiness.py           how `up` waits: every program ready, then Prometheus's first scrapes
restart_policy.py      backoff and the restart budget
plan_file.py           plan.json: what `up` asks the supervisor to run
state_file.py          state.json: what the supervisor runs now (pids, states, restarts)
service_env.py         the environment each service process gets
host.py                the operating system: pids, signals, ports
"""

from .plan_file import Plan
from .prometheus_program import PrometheusOptions, PrometheusPlan
from .restart_policy import RestartPolicy
from .runtime import ProcessRuntime
from .state_file import ServiceRecord, SupervisorState

__all__ = [
    "Plan",
    "ProcessRuntime",
    "PrometheusOptions",
    "PrometheusPlan",
    "RestartPolicy",
    "ServiceRecord",
    "SupervisorState",
]
