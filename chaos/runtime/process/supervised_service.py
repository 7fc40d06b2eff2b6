"""One supervised program (a service, or Prometheus beside them): starts it, notices its
exit, restarts it by the policy, honours holds.

`SupervisedService.tick(now)` is called by the supervisor loop about ten times a second
and moves the service through its states:

    waiting ─► starting ─► running ─(exit)─► restarting ─(backoff)─► starting
                                    └─(too many exits)─► failed
    any ─(hold file)─► stopping ─► held ─(hold removed)─► starting

Every start reads the service's release file (state_dir.py): its variables
are set on top of the service's own environment, and recorded in state.json.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime
import logging
import signal
import subprocess
import sys
from collections.abc import Mapping

from chaos.runtime.health import probe
from chaos.runtime.state_dir import StatePaths

from .host import listens_on, signal_name
from .program import Program
from .restart_policy import RestartPolicy
from .state_file import ServiceRecord

__all__ = ["SupervisedService"]

log = logging.getLogger("chaosbed.supervisor")

READY_PROBE_INTERVAL_S = 0.25
_PR_SET_PDEATHSIG = 1


def _die_with_supervisor() -> None:  # pragma: no cover - runs in the forked child
    """Linux: the service gets SIGTERM if the supervisor dies, even by SIGKILL."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


class SupervisedService:
    def __init__(
        self,
        program: Program,
        paths: StatePaths,
        env: Mapping[str, str],
        policy: RestartPolicy,
    ) -> None:
        self.program = program
        self.paths = paths
        self.env = dict(env)
        self.policy = policy
        self.proc: subprocess.Popen[bytes] | None = None
        self.state = "waiting"
        self.detail = "waiting for its dependencies"
        self.restarts = 0
        self.last_exit: int | None = None
        self.restart_times: list[float] = []
        self.consecutive_failures = 0
        self.started_at = 0.0
        self.next_start_at = 0.0
        self.stop_sent_at: float | None = None
        self.killed = False
        self.last_ready_probe = 0.0
        self.has_been_ready = False
        self.release: dict[str, str] = {}

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def record(self) -> ServiceRecord:
        return ServiceRecord(
            name=self.program.name,
            module=self.program.marker,
            port=self.program.port,
            pid=self.pid,
            state=self.state,
            restarts=self.restarts,
            last_exit=self.last_exit,
            detail=self.detail,
            release=dict(self.release),
        )

    # -- the loop --------------------------------------------------------

    def tick(self, now: float, *, dependencies_ready: bool) -> None:
        held = self.paths.is_held(self.program.name)
        if self.proc is not None:
            code = self.proc.poll()
            if code is None:
                self._while_alive(self.proc.pid, now, held)
            else:
                self._exited(code, now, held)
            return
        if held:
            self.state, self.detail = "held", "kept stopped by a hold file"
        elif self.state == "held":
            self.restart_times.clear()
            self.consecutive_failures = 0
            self._start(now, "hold released")
        elif self.state == "waiting" and dependencies_ready:
            self._start(now, "")
        elif self.state == "restarting" and now >= self.next_start_at:
            self.restarts += 1
            self.restart_times.append(now)
            self._start(now, f"restart {self.restarts}")

    def _while_alive(self, pid: int, now: float, held: bool) -> None:
        if held and self.stop_sent_at is None:
            log.info("%s is held: stopping pid %s", self.program.name, pid)
            self.stop(now)
        elif self.stop_sent_at is not None:
            if not self.killed and now - self.stop_sent_at >= self.policy.stop_grace_s:
                self.kill()
        elif self.state == "starting" and now - self.last_ready_probe >= READY_PROBE_INTERVAL_S:
            self.last_ready_probe = now
            if self._ready(pid):
                self.state, self.detail = "running", ""
                self.has_been_ready = True
                log.info("%s is ready (pid %s)", self.program.name, pid)

    def _ready(self, pid: int) -> bool:
        """Its ready path answers 200, and it is our process that listens on the port."""
        if not probe(self.program.port, self.program.ready_path, timeout_s=0.2).ok:
            return False
        return listens_on(pid, self.program.port) is not False

    def _exited(self, code: int, now: float, held: bool) -> None:
        how = signal_name(code)
        self.proc = None
        self.last_exit = code
        intended = self.stop_sent_at is not None
        self.stop_sent_at = None
        self.killed = False
        if held or intended:
            log.info("%s stopped (%s)", self.program.name, how)
            self.state = "held" if held else "stopped"
            self.detail = "kept stopped by a hold file" if held else f"stopped ({how})"
            return
        if self.policy.resets_backoff(now - self.started_at):
            self.consecutive_failures = 0
        self.consecutive_failures += 1
        if self.policy.gives_up(self.restart_times, now):
            self.state = "failed"
            self.detail = (
                f"exited ({how}) after {len(self.restart_times)} restarts within "
                f"{self.policy.window_s:.0f}s; gave up "
                f"(see {self.paths.service_log(self.program.name)})"
            )
            log.error("%s %s", self.program.name, self.detail)
            return
        backoff = self.policy.backoff_s(self.consecutive_failures)
        self.next_start_at = now + backoff
        self.state = "restarting"
        self.detail = f"exited ({how}); restarting in {backoff:.1f}s"
        log.warning("%s %s", self.program.name, self.detail)

    # -- actions ---------------------------------------------------------

    def _start(self, now: float, why: str) -> None:
        log_path = self.paths.service_log(self.program.name)
        release = self.paths.release_of(self.program.name)
        if release:
            deployed = " ".join(f"{k}={v}" for k, v in sorted(release.items()))
            why = f"{why}; release {deployed}" if why else f"release {deployed}"
        with log_path.open("ab") as log_file:
            stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
            banner = f"--- chaosbed supervisor: starting {self.program.name} at {stamp}"
            log_file.write(f"{banner}{f' ({why})' if why else ''}\n".encode())
            log_file.flush()
            try:
                self.proc = subprocess.Popen(
                    list(self.program.command),
                    env={**self.env, **release},
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_supervisor if sys.platform == "linux" else None,
                )
            except OSError as error:
                self.state, self.detail = "failed", f"could not start: {error}"
                log.error("%s %s", self.program.name, self.detail)
                return
        self.started_at = now
        self.release = release
        self.last_ready_probe = 0.0
        self.state, self.detail = "starting", why
        log.info("started %s as pid %s on port %s", self.program.name, self.pid, self.program.port)

    def stop(self, now: float) -> None:
        """SIGTERM (and SIGCONT, in case it is paused); the loop sends SIGKILL after the grace."""
        if self.proc is None or self.stop_sent_at is not None:
            return
        self.stop_sent_at = now
        self.state, self.detail = "stopping", "SIGTERM sent"
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
            self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        if self.proc is None:
            return
        log.warning("%s did not exit after SIGTERM: SIGKILL pid %s", self.program.name, self.pid)
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
