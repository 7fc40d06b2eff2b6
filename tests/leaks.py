"""Stacks a test module left running on its worker's ports: found, named and stopped.

Under pytest-xdist each worker owns a span of ports (tests/conftest.py). When a
module is done, nothing of its own may listen there: a stack left behind (a
fixture whose `up` failed before its `finally`, a teardown that died) would
make every later module of the worker fail at `up` with "already running" or
"port in use", and hide the one real failure behind dozens. `stop_leftovers`
takes such a stack down (the compose projects publishing on those ports, the
chaosbed supervisors whose services or Prometheus listen there) and says what
it found, so the module that leaked is the one that fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["stop_leftovers"]

_LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp
_SUPERVISOR = "chaos.runtime.process.supervisor"


def _listening_inodes(ports: range) -> dict[str, int]:
    """Socket inode -> port, for every TCP socket listening on one of `ports`."""
    found: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            port = int(fields[1].rsplit(":", 1)[1], 16)
            if fields[3] == _LISTEN and port in ports:
                found[fields[9]] = port
    return found


def _listeners(ports: range) -> dict[int, int]:
    """pid -> a port it listens on, among `ports` (processes this user can see)."""
    inodes = _listening_inodes(ports)
    owners: dict[int, int] = {}
    if not inodes:
        return owners
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    owners[int(entry.name)] = inodes[link[8:-1]]
        except OSError:  # gone, or not ours to read
            continue
    return owners


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def _supervisor_state_dir(pid: int) -> str | None:
    """The --state-dir of the chaosbed supervisor `pid` runs under (itself or an ancestor)."""
    while pid > 1:
        argv = _cmdline(pid)
        if _SUPERVISOR in argv and "--state-dir" in argv:
            return argv[argv.index("--state-dir") + 1]
        pid = _parent(pid)
    return None


def _compose_projects(ports: range) -> dict[str, list[int]]:
    """Compose project -> the host ports among `ports` its running containers publish."""
    try:
        listed = subprocess.run(
            ["docker", "ps", "--format", '{{.Label "com.docker.compose.project"}}\t{{.Ports}}'],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):  # no engine here: nothing of docker's to stop
        return {}
    projects: dict[str, list[int]] = {}
    for line in listed.stdout.splitlines():
        project, _, published = line.partition("\t")
        for mapping in published.split(", "):
            host, arrow, _ = mapping.partition("->")
            if arrow and host.rsplit(":", 1)[-1].isdigit():
                port = int(host.rsplit(":", 1)[-1])
                if port in ports and project:
                    projects.setdefault(project, []).append(port)
    return projects


def stop_leftovers(ports: range) -> list[str]:
    """Stop what still listens on `ports`; one line per thing found (empty: nothing was)."""
    found: list[str] = []
    for project, published in sorted(_compose_projects(ports).items()):
        found.append(f"compose project {project} (ports {sorted(published)})")
        subprocess.run(
            ["docker", "compose", "-p", project, "down", "--remove-orphans", "--timeout", "2"],
            capture_output=True, timeout=180, check=False,
        )  # fmt: skip
    state_dirs: dict[str, list[int]] = {}
    strays: dict[int, int] = {}
    for pid, port in _listeners(ports).items():
        if pid == os.getpid():
            found.append(f"a server of the test process itself on port {port}")
            continue
        if "docker-proxy" in " ".join(_cmdline(pid)):
            continue  # a compose project's published port: taken down above
        state_dir = _supervisor_state_dir(pid)
        if state_dir is None:
            strays[pid] = port
        else:
            state_dirs.setdefault(state_dir, []).append(port)
    for state_dir, listening in sorted(state_dirs.items()):
        found.append(f"a process stack in {state_dir} (ports {sorted(listening)})")
        subprocess.run(
            [sys.executable, "-m", "chaos", "down", "--state-dir", state_dir],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
    for pid, port in sorted(strays.items()):
        found.append(f"process {pid} ({' '.join(_cmdline(pid))[:120]}) on port {port}")
        try:
            os.kill(pid, 15)
        except OSError:
            pass
    return found
