"""Running jobs on lanes: each job is a child `chaosbed verify --start-stack` on a
fresh stack of its own, at most one per lane at a time (lane i on the port base
`bases[i]`).

Signals are handled in the main thread only, and each child's runner rolls its
faults back on SIGINT/SIGTERM; so each child runs in its own session (a Ctrl-C
at the terminal reaches it once, from here), and a signal to this process is
forwarded to every running child, no new job starts, and `run_jobs` returns
once every child has rolled back and stopped its stack. A child's output
(stdout and stderr) is printed with its lane in front (`[lane 2] ...`) and kept
in `<out>/lane.log`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from chaos.verify.lanes import DEFAULT_BASE, lane_bases

from .runtime_options import environment_port_base

__all__ = ["Job", "JobEnd", "lane_bases_of", "run_jobs", "verify_argv"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_POLL_S = 0.2
_TAIL_LINES = 40


@dataclass(frozen=True)
class Job:
    label: str
    argv: tuple[str, ...]  # after `python -m chaos`; the lane adds --port-base
    out: Path
    environ: tuple[tuple[str, str], ...] = ()


@dataclass
class JobEnd:
    job: Job
    lane: int  # from 1
    status: int | None  # None: never started (the run was interrupted first)
    seconds: float = 0.0
    tail: list[str] = field(default_factory=list)

    @property
    def complaint(self) -> str:
        """What the child last complained about (else its last lines)."""
        said = [line for line in self.tail if line.startswith("chaosbed:")]
        return " / ".join((said or self.tail)[-3:]).strip() or f"exit status {self.status}"


def verify_argv(
    paths: Sequence[Path],
    acts: Sequence[str],
    *,
    runtime: str,
    backend: str,
    state_dir: Path,
    out: Path,
) -> tuple[str, ...]:
    """`verify` on a fresh stack of its own, playing only `acts` of the suite `paths` name."""
    only = [arg for name in acts for arg in ("--only", name)]
    return (
        "verify", *map(str, paths), *only, "--start-stack",
        "--runtime", runtime, "--backend", backend,
        "--state-dir", str(state_dir), "--out", str(out),
    )  # fmt: skip


@contextlib.contextmanager
def _signals_noted() -> Iterator[list[int]]:
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return

    def note(signum: int, _frame: FrameType | None) -> None:
        noted.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in _SIGNALS}
    try:
        yield noted
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


class _Child:
    def __init__(self, job: Job, lane: int, base: int, say: Callable[[str], None]) -> None:
        self.job, self.lane = job, lane
        self.started = time.monotonic()
        self.tail: deque[str] = deque(maxlen=_TAIL_LINES)
        self.forwarded = False
        job.out.mkdir(parents=True, exist_ok=True)
        environ = {**os.environ, **dict(job.environ), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chaos", *job.argv, "--port-base", str(base)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=environ,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        self.reader = threading.Thread(
            target=self._relay, args=(self.process.stdout, say), daemon=True
        )
        self.reader.start()

    def _relay(self, stream: IO[str], say: Callable[[str], None]) -> None:
        with (self.job.out / "lane.log").open("w") as log:
            for raw in stream:
                line = raw.rstrip("\n")
                self.tail.append(line)
                log.write(raw)
                log.flush()
                say(f"[lane {self.lane}] {line}")

    def end(self) -> JobEnd:
        self.reader.join()
        status = self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return JobEnd(self.job, self.lane, status, time.monotonic() - self.started,
                      list(self.tail))  # fmt: skip


def run_jobs(
    jobs: Sequence[Job],
    bases: Sequence[int],
    *,
    say: Callable[[str], None],
    on_end: Callable[[JobEnd], None] = lambda _: None,
) -> tuple[list[JobEnd], int | None]:
    """Run `jobs` in order, one per lane at a time; each job's end (in the order they
    ended, jobs never started last) and the signal that interrupted the run, or None."""
    lock = threading.Lock()

    def said(message: str) -> None:
        with lock:
            say(message)

    pending = deque(jobs)
    free = deque(range(len(bases)))
    running: dict[int, _Child] = {}
    ended: list[JobEnd] = []
    with _signals_noted() as noted:
        while running or (pending and not noted):
            if noted:
                for child in running.values():
                    if not child.forwarded:
                        child.process.send_signal(noted[0])
                        child.forwarded = True
            while free and pending and not noted:
                lane = free.popleft()
                job = pending.popleft()
                said(f"[lane {lane + 1}] started: {job.label} (port base {bases[lane]})")
                running[lane] = _Child(job, lane + 1, bases[lane], said)
            for lane, child in list(running.items()):
                if child.process.poll() is None:
                    continue
                end = child.end()
                del running[lane]
                free.append(lane)
                ended.append(end)
                said(f"[lane {lane + 1}] ended: {end.job.label} (exit {end.status}, "
                     f"{end.seconds:.0f} s)")  # fmt: skip
                on_end(end)
            if running:
                time.sleep(_POLL_S)
        ended += [JobEnd(job, 0, None) for job in pending]
        return ended, (noted[0] if noted else None)


def lane_bases_of(parallel: int, port_base: int | None) -> tuple[int, ...]:
    """The lanes' port bases from --port-base, else CHAOSBED_PORT_BASE, else the
    default; ValueError (naming why) when they would pass the last port."""
    return lane_bases(port_base or environment_port_base() or DEFAULT_BASE, parallel)
