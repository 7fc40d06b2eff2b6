"""A pod's service container's processes: found by the container's id in
/proc/<pid>/cgroup (every container runtime names a container's cgroup after
its id), acted on by a helper pod on the container's node that sees the
node's processes (`hostPID`), and read by the node agent (node_agent.py), which
sees them the same way.

- `kill_script`: SIGKILL to the container's main process (pid 1 of its own
  namespace); the kubelet sees the container end and starts it again. The
  helper waits until the process has ended and prints its pid.
- `pause_script`: SIGSTOP to every process of the container, checked from
  the helper (each in state T within 2 s; then it makes PAUSED_MARK, which its
  readiness probe looks for: the helper is Ready once the pause is), then
  held: the helper sends SIGCONT when it is stopped (SIGTERM: its pod
  deleted, which is how a pause is undone) or after `hold_s` seconds,
  whatever becomes of the runner. It resumes only the pids still in the
  container (one reused meanwhile is left alone).
- `resume_script`: SIGCONT to every process of the container, checked (none
  left in state T): the undo when no pause helper is there to do it.

`scan` reads from a /proc (the node agent's: its node's) each container's
processes, its main one and whether that one is stopped; `running`, which of
a set of pids still run, each described.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PAUSED_MARK",
    "ContainerProcesses",
    "Scan",
    "container_ids",
    "kill_script",
    "pause_script",
    "pod_uids",
    "resume_script",
    "running",
    "scan",
]

#: The processes of the container $cid on this node, lowest pid first, in $pids; exit 3
#: when there is none.
FIND = """cid={cid}
find_pids() {{
    grep -l -e "$cid" /proc/[0-9]*/cgroup 2>/dev/null | cut -d / -f 3 | sort -n | tr '\\n' ' '
}}
pids=$(find_pids)
if [ -z "$pids" ]; then echo "no process of the container $cid runs on this node" >&2; exit 3; fi
state_of() {{ awk '$1 == "State:" {{print $2}}' "/proc/$1/status" 2>/dev/null; }}
"""

KILL = """main=
for pid in $pids; do
    if [ "$(awk '$1 == "NSpid:" {print $NF}' "/proc/$pid/status" 2>/dev/null)" = 1 ]; then
        main=$pid; break
    fi
done
if [ -z "$main" ]; then echo "no main process of the container $cid (pids $pids)" >&2; exit 3; fi
kill -KILL "$main" || exit 4
tries=0
while [ -e "/proc/$main" ] && [ "$(state_of "$main")" != Z ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then
        echo "its main process $main is still running 10s after SIGKILL" >&2; exit 4
    fi
    sleep 0.1
done
echo "$main"
"""

#: SIGCONT to each of $pids still in the container (a pid reused meanwhile is left alone).
RESUME_PIDS = """resume() {
    for pid in $pids; do
        if grep -q -e "$cid" "/proc/$pid/cgroup" 2>/dev/null; then kill -CONT "$pid" 2>/dev/null; fi
    done
}
"""

#: Waits up to 2 s for process $1 to be stopped (T), or ended (Z, or gone); 1 if not.
UNTIL_STOPPED = """until_stopped() {
    tries=0
    while :; do
        state=$(state_of "$1")
        case "$state" in ""|T|Z) return 0;; esac
        tries=$((tries + 1))
        if [ "$tries" -gt 20 ]; then return 1; fi
        sleep 0.1
    done
}
"""

PAUSE = """sleeper=
trap 'resume; [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null; exit 0' TERM INT HUP
if ! kill -STOP $pids; then resume; echo "SIGSTOP failed on $pids" >&2; exit 4; fi
for pid in $(find_pids); do
    case " $pids " in *" $pid "*) ;; *) resume; echo "new process $pid in $cid" >&2; exit 4;; esac
    if ! until_stopped "$pid"; then
        resume; echo "process $pid of $cid is $state 2s after SIGSTOP" >&2; exit 4
    fi
done
echo "stopped $pids"
touch {ready}
sleep {hold_s} >/dev/null 2>&1 &
sleeper=$!
wait "$sleeper"
resume
"""

RESUME = """resume
for pid in $(find_pids); do
    if [ "$(state_of "$pid")" = T ]; then
        echo "process $pid of $cid is still stopped" >&2; exit 4
    fi
done
echo "resumed $pids"
"""

#: What a pause's helper makes once every process it stopped is seen stopped (its
#: readiness probe looks for it).
PAUSED_MARK = "/tmp/chaosbed-paused"

_CONTAINER_ID = re.compile(r"[0-9a-f]{64}")


def _find(container_id: str) -> str:
    if not _CONTAINER_ID.fullmatch(container_id):
        raise ValueError(f"not a container id: {container_id!r}")
    return FIND.format(cid=shlex.quote(container_id))


def kill_script(container_id: str) -> str:
    """SIGKILL to the main process of `container_id`; prints its pid once it ended."""
    return _find(container_id) + KILL


def pause_script(container_id: str, hold_s: float, mark: str = PAUSED_MARK) -> str:
    """Every process of `container_id` stopped, checked (then `mark` made), and held so
    until SIGTERM or `hold_s` seconds have passed; then resumed."""
    script = PAUSE.replace("{ready}", shlex.quote(mark)).replace("{hold_s}", f"{hold_s:.0f}")
    return _find(container_id) + RESUME_PIDS + UNTIL_STOPPED + script


def resume_script(container_id: str) -> str:
    """Every process of `container_id` resumed, checked."""
    return _find(container_id) + RESUME_PIDS + RESUME


@dataclass(frozen=True)
class ContainerProcesses:
    """A container's processes on a node: `main` is pid 1 of its namespace
    (None if it is not among them), `stopped` whether that one is in state T."""

    pids: tuple[int, ...]
    main: int | None
    stopped: bool


#: A container's id in a cgroup path: a component of 64 hex digits (docker), with a
#: runtime's prefix and suffix (cri-containerd-<id>.scope, docker-<id>.scope).
_ID_IN_PATH = re.compile(r"(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?=/|$)", re.MULTILINE)


def container_ids(cgroups: str) -> set[str]:
    """The container ids in a process's /proc/<pid>/cgroup (a node container's and its
    pod container's, for a pod's process on a node that is a container)."""
    return set(_ID_IN_PATH.findall(cgroups))


_POD_CGROUP = re.compile(r"/pod([0-9a-f-]{36})(?:/|$)", re.MULTILINE)
_POD_SLICE = re.compile(r"-pod([0-9a-f_]{36})\.slice")


def pod_uids(cgroups: str) -> set[str]:
    """The pods a process's /proc/<pid>/cgroup places it in (a kubelet's cgroupfs
    driver names a pod's cgroup `pod<uid>`, under its QoS class's; the systemd
    driver, `kubepods-<class>-pod<uid with _>.slice`)."""
    slices = {uid.replace("_", "-") for uid in _POD_SLICE.findall(cgroups)}
    return set(_POD_CGROUP.findall(cgroups)) | slices


@dataclass(frozen=True)
class Scan:
    """What one pass over /proc found: the wanted containers' processes (a container
    with none is left out), and the uid of every pod some process runs in."""

    containers: dict[str, ContainerProcesses]
    pods: set[str]


def scan(wanted: set[str], proc: Path = Path("/proc")) -> Scan:
    """The `wanted` containers' processes and the pods with processes, on the machine
    (`proc`), in one pass."""
    pids: dict[str, list[int]] = {}
    pods: set[str] = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cgroups = (entry / "cgroup").read_bytes().decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        pods |= pod_uids(cgroups)
        for found in container_ids(cgroups) & wanted:
            pids.setdefault(found, []).append(int(entry.name))
    containers = {}
    for container, members in pids.items():
        main, stopped = None, False
        for pid in sorted(members):
            status = _status(proc / str(pid) / "status")
            if status.get("NSpid", "").split()[-1:] == ["1"]:
                main, stopped = pid, status.get("State", "").startswith("T")
                break
        containers[container] = ContainerProcesses(tuple(sorted(members)), main, stopped)
    return Scan(containers, pods)


def _status(path: Path) -> dict[str, str]:
    try:
        text = path.read_bytes().decode(errors="replace")
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def running(pids: Collection[int], proc: Path = Path("/proc")) -> dict[int, str]:
    """Those of `pids` that still run (not zombies), each with what `proc` says of it
    (its state, parent, command and cgroup), for whoever reads why a node is not
    seen stopped or drained. One whose entry is there but cannot be read counts as
    running: nothing says it ended."""
    found = {}
    for pid in sorted(set(pids)):
        try:
            stat = _read(proc, pid, "stat")
        except FileNotFoundError:
            continue
        except OSError as exc:
            found[pid] = f"{pid} ({exc})"
            continue
        name, fields = stat.split("(", 1)[1].rsplit(")", 1)
        state, parent = fields.split()[:2]
        if state == "Z":
            continue
        try:
            command = _read(proc, pid, "cmdline").replace("\0", " ").strip()
            cgroups = _read(proc, pid, "cgroup").splitlines()
        except OSError:
            command, cgroups = "", []
        paths = [line.split(":", 2) for line in cgroups if line.count(":") >= 2]
        where = next(  # the pids controller's (v1: the unified one is then "/"), else
            (path for _, kind, path in paths if kind == "pids"),  # the unified one's
            next((path for hierarchy, _, path in paths if hierarchy == "0"),
                 paths[0][2] if paths else "?"),
        )  # fmt: skip
        found[pid] = (
            f"{pid} (state {state}, parent {parent}, {(command or f'[{name}]')[:80]!r}, "
            f"cgroup {where})"
        )
    return found


def _read(proc: Path, pid: int, name: str) -> str:
    return (proc / str(pid) / name).read_bytes().decode(errors="replace")
