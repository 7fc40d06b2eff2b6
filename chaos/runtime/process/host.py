"""The host operating system: is a pid alive (and ours), its state, signals, stopping processes.

Liveness treats zombies as gone: an exited process that its parent has not
reaped yet no longer runs anything (we never reap here: that would steal the
exit status from the process's owner). On Linux, /proc tells us the state and
the command line, so a recycled pid is not mistaken for one of ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = [
    "cmdline",
    "listens_on",
    "pid_alive",
    "pid_runs",
    "process_state",
    "signal_name",
    "terminate",
    "wait_gone",
]

_PROC = Path("/proc")


def process_state(pid: int) -> str | None:
    """The state letter from /proc/<pid>/stat (R, S, T, Z, ...), or None if unknown."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    return stat.rpartition(")")[2].split()[0]


def cmdline(pid: int) -> list[str] | None:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return process_state(pid) != "Z"


def pid_runs(pid: int, marker: str) -> bool:
    """True while `pid` is alive and its command line mentions `marker` (a module name).

    Where /proc is missing the command line cannot be checked: liveness decides.
    """
    if not pid_alive(pid):
        return False
    args = cmdline(pid)
    if args is None:
        return not _PROC.is_dir()
    return any(marker in arg for arg in args)


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            rows = (_PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, tcp_state, inode = fields[1], fields[3], fields[9]
            if tcp_state == "0A" and int(local.rpartition(":")[2], 16) == port:  # 0A: LISTEN
                inodes.add(inode)
    return inodes


def listens_on(pid: int, port: int) -> bool | None:
    """Does `pid` hold a socket listening on `port`? None where /proc cannot tell.

    An answer on the port is not enough to call a service ready: another
    process may have taken the port, and ours is about to fail to bind.
    """
    if not (_PROC / "net" / "tcp").exists():
        return None
    sockets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    try:
        fds = list((_PROC / str(pid) / "fd").iterdir())
    except OSError:
        return None if pid_alive(pid) else False
    for fd in fds:
        with contextlib.suppress(OSError):
            if os.readlink(fd) in sockets:
                return True
    return False


def signal_name(code: int) -> str:
    """Describe a Popen return code: 'exit status 1' or 'signal SIGKILL'."""
    if code >= 0:
        return f"exit status {code}"
    try:
        return f"signal {signal.Signals(-code).name}"
    except ValueError:
        return f"signal {-code}"


def _send(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def wait_gone(
    pids: Iterable[int],
    timeout_s: float,
    *,
    alive: Callable[[int], bool] = pid_alive,
    interval_s: float = 0.05,
) -> list[int]:
    """Wait until none of `pids` is alive, at most `timeout_s`; return those still alive."""
    deadline = time.monotonic() + timeout_s
    remaining = [pid for pid in pids if alive(pid)]
    while remaining and time.monotonic() < deadline:
        time.sleep(interval_s)
        remaining = [pid for pid in remaining if alive(pid)]
    return remaining


def terminate(pids: Iterable[int], grace_s: float) -> list[int]:
    """SIGTERM, then SIGKILL whatever is left after `grace_s`; return pids that survived both."""
    targets = [pid for pid in pids if pid_alive(pid)]
    for pid in targets:
        _send(pid, signal.SIGTERM)
        _send(pid, signal.SIGCONT)  # a paused process cannot act on SIGTERM
    stubborn = wait_gone(targets, grace_s)
    for pid in stubborn:
        _send(pid, signal.SIGKILL)
    return wait_gone(stubborn, 5.0)
