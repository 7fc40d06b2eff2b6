"""The supervisor: a background process that runs the stack and keeps it running.

    python -m chaos.runtime.process.supervisor --state-dir DIR [--foreground]

It reads DIR/plan.json, starts Prometheus at once when the plan has it, each
service once its dependencies are ready (or after the plan's dependency
wait), restarts whatever exits (see `RestartPolicy`), honours hold files, and
rewrites DIR/state.json whenever something changes. SIGTERM or SIGINT stop
every program (SIGTERM, SIGKILL after the grace period) and then the
supervisor, which removes its pid file.

Without --foreground it detaches: the launched process forks, writes the
child's pid to DIR/supervisor.pid and exits, so `up` can return while the
supervisor lives on (reparented, in its own session).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from chaos.runtime.state_dir import StatePaths, write_atomically

from .plan_file import Plan
from .program import service_program
from .service_env import service_env
from .state_file import SupervisorState
from .supervised_service import SupervisedService

__all__ = ["Supervisor", "main"]

log = logging.getLogger("chaosbed.supervisor")

TICK_S = 0.1


class Supervisor:
    def __init__(
        self,
        plan: Plan,
        paths: StatePaths,
        *,
        environ: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plan = plan
        self.paths = paths
        self.clock = clock
        base_env = dict(os.environ if environ is None else environ)
        self.children = [
            SupervisedService(
                service_program(spec),
                paths,
                service_env(spec, plan.services, paths, base_env),
                plan.policy,
            )
            for spec in plan.services
        ]
        if plan.prometheus is not None:  # first: it needs no service, and takes longest
            program = plan.prometheus.program()
            self.children.insert(0, SupervisedService(program, paths, base_env, plan.policy))
        self.stopping = False
        self.started_at = clock()
        self._last_written = ""

    def request_stop(self, signum: int, _frame: FrameType | None = None) -> None:
        log.info("received %s: stopping every service", signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.request_stop)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        log.info("supervisor %s starting %d programs", os.getpid(), len(self.children))
        try:
            while not self.stopping:
                self.tick()
                time.sleep(TICK_S)
        except Exception:
            log.exception("supervisor loop failed")
            raise
        finally:
            self.shutdown()

    def tick(self) -> None:
        now = self.clock()
        for child in self.children:
            child.tick(now, dependencies_ready=self._dependencies_ready(child, now))
        self.write_state()

    def _dependencies_ready(self, child: SupervisedService, now: float) -> bool:
        if now - self.started_at >= self.plan.dependency_wait_s:
            return True
        ready = {other.program.name for other in self.children if other.has_been_ready}
        return all(name in ready for name in child.program.depends_on)

    def shutdown(self) -> None:
        """SIGTERM every service (dependents first), SIGKILL what outlives the grace period."""
        now = self.clock()
        for child in reversed(self.children):
            child.stop(now)
        give_up_at = now + self.plan.policy.stop_grace_s + 5.0
        while any(child.proc is not None for child in self.children):
            now = self.clock()
            if now >= give_up_at:
                left = [child.pid for child in self.children if child.proc is not None]
                log.error("processes still alive after SIGKILL: %s", left)
                break
            for child in self.children:
                if child.proc is not None:  # a tick without a process could start one
                    child.tick(now, dependencies_ready=False)
            self.write_state()
            time.sleep(0.05)
        for child in self.children:
            if child.proc is None:
                child.state = "stopped"
        self.write_state(finished=True)
        if self.paths.read_pid() == os.getpid():
            self.paths.pid_file.unlink(missing_ok=True)
        log.info("supervisor %s stopped", os.getpid())

    def write_state(self, *, finished: bool = False) -> None:
        pid = None if finished else os.getpid()
        state = SupervisorState(pid, [child.record() for child in self.children])
        text = state.to_json()
        if text != self._last_written:
            state.write(self.paths.state_file)
            self._last_written = text


def _detach(paths: StatePaths) -> None:
    """Fork; the parent records the child's pid and exits, the child carries on."""
    pid = os.fork()
    if pid > 0:
        write_atomically(paths.pid_file, f"{pid}\n")
        os._exit(0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.runtime.process.supervisor")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--foreground", action="store_true", help="do not detach")
    args = parser.parse_args(argv)
    paths = StatePaths.at(args.state_dir)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    plan = Plan.read(paths.plan_file)
    if args.foreground:
        write_atomically(paths.pid_file, f"{os.getpid()}\n")
    else:
        _detach(paths)
    Supervisor(plan, paths).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
