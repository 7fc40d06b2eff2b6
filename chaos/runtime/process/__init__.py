"""The process runtime: the stack as local processes, supervised, no Docker needed.

runtime.py             ProcessRuntime: up, down, status, and the Runtime interface
instances.py           process-layer faults: kill, hold, stop/start, pause, restart
supervisor.py          the background supervisor (python -m chaos.runtime.process.supervisor)
supervised_service.py  one service under the supervisor: start, notice exits, restart
restart_policy.py      backoff and the restart budget
plan_file.py           plan.json: what `up` asks the supervisor to run
state_file.py          state.json: what the supervisor runs now (pids, states, restarts)
service_env.py         the environment each service process gets
host.py                the operating system: pids, signals, ports
"""

from .plan_file import Plan
from .restart_policy import RestartPolicy
from .runtime import ProcessRuntime
from .state_file import ServiceRecord, SupervisorState

__all__ = ["Plan", "ProcessRuntime", "RestartPolicy", "ServiceRecord", "SupervisorState"]
