"""Short-lived helper pods: how the cluster runtime runs a command on a node, in
the node's network namespace or in a pod's, through the Kubernetes API alone
(the pattern of Chaos Mesh's and Litmus's helpers; no node's container engine is
reached).

A helper is a pod bound to the node (`spec.nodeName`, every taint
tolerated), with the node's network (`hostNetwork`), the image
chaosbed/net-helper (iptables, tc, nsenter, python3), never restarted, no
ServiceAccount token. Its output comes back as its termination message:
the command's output, compressed and base64-encoded (the kubelet keeps 4 KiB
of a message; an output that does not fit is an error, never cut short), so
the runner needs no access to the kubelets' logs.

- On the node (`node_command`): NET_ADMIN in the node's namespace: the node
  faults (a node's cut).
- With the node's processes (`processes`): `hostPID`, KILL added and no other:
  the process faults on a pod's container (pod_processes.py: kill, pause).
- In a pod (`pod_command`): with the node's processes (`hostPID`), NET_ADMIN,
  SYS_ADMIN and SYS_PTRACE (not privileged: a node container here cannot grant
  every capability); it finds a process of the pod by the pod's uid in /proc/<pid>/cgroup (every
  container runtime puts a pod's containers under a cgroup named after it) and
  enters that process's network namespace (`nsenter --net`), which is the
  pod's, shared by its containers and kept across their restarts. What it
  runs comes from the helper's own image (iptables, tc, python3), never from
  the pod's.

Commands for several pods on one node at once (a scan of every namespace, a
step in two pods) share one helper (`batch_command`): each runs in a subshell
of its own, in turn, and the helper hands back each one's exit status and
output. A pod's sandbox and container made and torn down per command stalled
every service on a 2-core node for seconds.

A detached helper (`start`) is a fault's TTL: it sleeps, then acts, whatever
becomes of the runner; it carries the annotation `chaosbed.io/expires` (the
second it acts), so that cleanup tells a live one from one a killed runner
left.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import json
import secrets
import shlex
import time
import urllib.parse
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from chaos.runtime.errors import InstanceActionFailed

from .cluster import NAMESPACE, PART_OF
from .control_plane import ControlPlaneFailed, KubernetesApi

__all__ = [
    "EXPIRES",
    "HELPER_IMAGE",
    "HELPER_TIMEOUT_S",
    "HelperPods",
    "OutputLost",
    "batch_command",
    "batch_results",
    "decode_output",
    "failure",
    "ended",
    "node_command",
    "pod_command",
    "ready",
    "stale",
    "wrap",
]

HELPER_IMAGE = "chaosbed/net-helper:bookworm"
HELPER_TIMEOUT_S = 60.0
#: When a detached helper acts (Unix seconds).
EXPIRES = "chaosbed.io/expires"
#: The run that started a helper.
RUN_ID = "chaosbed.io/run-id"
#: What the kubelet keeps of a termination message.
MESSAGE_LIMIT = 4096
#: The container's state when it never started: no point waiting for it.
HOPELESS = {"ErrImageNeverPull", "CreateContainerError", "CreateContainerConfigError"}

#: A process of the pod on this node, by the pod's uid in its cgroups (the kubelet's
#: cgroup per pod: cgroupfs .../pod<uid>/..., systemd ...-pod<uid with _>.slice/...),
#: the lowest pid first (most often the sandbox's, which lives as long as the pod),
#: the next if one ends meanwhile; never one in the node's own network namespace (a
#: hostNetwork pod: its rules would be the node's); $pid, or exit 3.
FIND_POD = """node=$(readlink /proc/self/ns/net)
pid=
for candidate in $(grep -l -e {cgroupfs} -e {systemd} -e {pod_level} /proc/[0-9]*/cgroup \
2>/dev/null \
| cut -d / -f 3 | sort -n); do
    net=$(readlink "/proc/$candidate/ns/net" 2>/dev/null) || continue
    if [ "$net" = "$node" ]; then
        echo "the pod "{uid}" shares the node's network namespace (hostNetwork)" >&2; exit 3
    fi
    pid=$candidate; break
done
if [ -z "$pid" ]; then echo "no process of the pod "{uid}" runs on this node" >&2; exit 3; fi
"""
#: Runs a script, then writes its output, compressed, as the termination message.
WRAP = """out=$(mktemp)
( {script}
) >"$out" 2>&1
status=$?
python3 -c 'import base64, sys, zlib
data = zlib.compress(open(sys.argv[1], "rb").read(), 9)
sys.stdout.write(base64.b64encode(data).decode())' "$out" >{message}
rm -f "$out"
exit $status
"""
TERMINATION_LOG = "/dev/termination-log"


def wrap(script: str, message: str = TERMINATION_LOG) -> str:
    """`script`, its output written compressed to `message` (see `decode_output`) and
    its exit status kept."""
    return WRAP.format(script=script, message=shlex.quote(message))


def node_command(script: str) -> str:
    """`script` run in the node's network namespace (a helper's own, hostNetwork)."""
    return script


def pod_command(pod_uid: str, argv: Sequence[str]) -> str:
    """`argv` run in the network namespace of the pod `pod_uid`, from a helper on its
    node (hostPID; SYS_ADMIN and SYS_PTRACE to enter it)."""
    find = FIND_POD.format(
        cgroupfs=shlex.quote(f"/pod{pod_uid}/"),
        pod_level=shlex.quote(f"/pod{pod_uid}$"),
        systemd=shlex.quote(f"-pod{pod_uid.replace('-', '_')}.slice"),
        uid=shlex.quote(pod_uid),
    )
    return find + 'exec nsenter -t "$pid" -n -- ' + " ".join(shlex.quote(a) for a in argv)


#: Each script of a batch in a subshell of its own (its `exit` or `exec` ends only it),
#: its output and status kept; then every one's, as JSON, in order.
BATCH_ITEM = """( {script}
) >"$batch/{index}" 2>&1; echo $? >"$batch/{index}.status"
"""
BATCH_END = """python3 -c 'import json, sys
d, n = sys.argv[1], int(sys.argv[2])
def read(i): return [int(open(f"{{d}}/{{i}}.status").read()),
                     open(f"{{d}}/{{i}}", errors="replace").read()]
print(json.dumps([read(i) for i in range(n)]))' "$batch" {count}
rm -rf "$batch"
"""


def batch_command(scripts: Sequence[str]) -> str:
    """One script that runs each of `scripts` in turn, whatever the others did, and
    prints their exit statuses and outputs (read them with `batch_results`)."""
    items = "".join(
        BATCH_ITEM.format(script=script, index=index) for index, script in enumerate(scripts)
    )
    return "batch=$(mktemp -d)\n" + items + BATCH_END.format(count=len(scripts))


def batch_results(output: str, count: int) -> list[tuple[int, str]]:
    """(exit status, output) of each script of a batch of `count`, from its output;
    ValueError when it is not that."""
    try:
        found = json.loads(output.strip().splitlines()[-1])
        results = [(int(status), str(text)) for status, text in found]
    except (IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"not a batch's results: {output[-300:]!r}") from exc
    if len(results) != count:
        raise ValueError(f"{len(results)} results for a batch of {count}")
    return results


class OutputLost(InstanceActionFailed):
    """A helper ran to its end, but its output did not come back whole (it did not fit
    a termination message)."""


def decode_output(message: str) -> str:
    """A helper's output from its termination message. ValueError when it is not
    whole (cut at the kubelet's limit, or not written)."""
    if len(message.encode()) >= MESSAGE_LIMIT:
        raise ValueError(f"its output, compressed, reached the {MESSAGE_LIMIT}-byte limit")
    try:
        return zlib.decompress(base64.b64decode(message, validate=True)).decode(errors="replace")
    except (binascii.Error, zlib.error) as exc:
        raise ValueError(f"its output did not come back whole: {message[:200]!r}") from exc


class HelperPods:
    """Helper pods of one kind (`kind`: their label `app.kubernetes.io/part-of`), in the
    stack's namespace, as the plane's caller (the runner's ServiceAccount)."""

    def __init__(self, plane: KubernetesApi, kind: str) -> None:
        self.plane = plane
        self.labels = {PART_OF: kind}
        self.selector = urllib.parse.quote(f"{PART_OF}={kind}")

    @property
    def _pods(self) -> str:
        return f"/api/v1/namespaces/{NAMESPACE}/pods"

    def manifest(
        self,
        name: str,
        node: str,
        script: str,
        *,
        in_pod: bool,
        annotations: Mapping[str, str] | None = None,
        wrapped: bool = True,
        processes: bool = False,
    ) -> dict[str, Any]:
        # into another process's namespace: setns needs SYS_ADMIN, its /proc/<pid>/ns
        # SYS_PTRACE (not privileged: a node that lacks a capability cannot grant it);
        # signals to the node's processes: KILL, nothing else
        if processes:
            added = ["KILL"]
        else:
            added = ["NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE"] if in_pod else ["NET_ADMIN"]
        security = {"runAsUser": 0, "capabilities": {"add": added}}
        spec: dict[str, Any] = {
            "nodeName": node,
            "hostNetwork": True,
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 0,
            "tolerations": [{"operator": "Exists"}],
            "containers": [
                {
                    "name": "helper",
                    "image": HELPER_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", wrap(script) if wrapped else script],
                    "securityContext": security,
                    # a detached helper's output is not wrapped: its log when it fails
                    "terminationMessagePolicy": "FallbackToLogsOnError",
                    # requests: not the first pod a node under pressure refuses or evicts
                    "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
                }
            ],
        }
        if in_pod or processes:
            spec["hostPID"] = True
        metadata: dict[str, Any] = {"name": name, "namespace": NAMESPACE, "labels": self.labels}
        if annotations:
            metadata["annotations"] = dict(annotations)
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}

    def run(
        self,
        node: str,
        script: str,
        what: str,
        *,
        where: str | None = None,
        in_pod: bool = False,
        processes: bool = False,
        run_id: str = "",
        hint: str = "",
    ) -> str:
        """Run `script` in a helper on `node` and return its output once it ends; the
        helper is deleted either way. InstanceActionFailed (naming `where`, the node
        by default) when it fails, never starts, or does not end in time. `hint`
        goes into its name (a region, a service)."""
        where = where or node
        name = "-".join(filter(None, ("chaosbed", what, hint, secrets.token_hex(4))))
        annotations = {RUN_ID: run_id} if run_id else None
        body = self.manifest(
            name, node, script, in_pod=in_pod, processes=processes, annotations=annotations
        )
        done = False
        try:
            self.plane.api("POST", self._pods, body)
            found = self._wait(name, where, what, until="ended")
            done = True
            return _output(found, name, where, what)
        finally:
            with contextlib.suppress(Exception):
                if done:  # ended: nothing left to stop
                    self.plane.api("DELETE", f"{self._pods}/{name}", {"gracePeriodSeconds": 0})
                else:  # it may still start and act: stopped before this returns
                    self.delete(name)

    def _wait(self, name: str, where: str, what: str, *, until: str) -> dict[str, Any]:
        """The helper once it has ended (`until="ended"`) or its container runs
        (`"running"`); InstanceActionFailed if it cannot get there in time."""
        deadline = time.monotonic() + HELPER_TIMEOUT_S
        while True:
            found: dict[str, Any] = self.plane.api("GET", f"{self._pods}/{name}")
            status = found.get("status", {})
            phase = status.get("phase")
            if phase in ("Succeeded", "Failed"):
                if until == "ended":
                    return found
                raise InstanceActionFailed(where, what, failure(found, name))
            containers = status.get("containerStatuses", [])
            if until == "running" and any("running" in c.get("state", {}) for c in containers):
                return found
            for container in containers:
                waiting = container.get("state", {}).get("waiting", {})
                if waiting.get("reason") in HOPELESS:
                    detail = f"{waiting['reason']}: {waiting.get('message', '')}".strip(": ")
                    raise InstanceActionFailed(where, what, f"its helper {name}: {detail}")
            if time.monotonic() > deadline:
                waiting = [
                    str(c["state"]["waiting"].get("reason"))
                    for c in containers
                    if "waiting" in c.get("state", {})
                ]
                said = f"{phase}" + (f" ({', '.join(waiting)})" if waiting else "")
                raise InstanceActionFailed(
                    where, what,
                    f"its helper pod {name} on {found.get('spec', {}).get('nodeName')} was "
                    f"{said} after {HELPER_TIMEOUT_S:g}s",
                )  # fmt: skip
            time.sleep(0.2)

    def start(
        self,
        node: str,
        script: str,
        name: str,
        *,
        after_s: float,
        in_pod: bool,
        run_id: str,
        where: str,
    ) -> None:
        """A helper `name`, detached, that runs `script` on `node` `after_s` seconds from
        now (removed by `delete` before then to cancel it); returns once it runs."""
        annotations = {EXPIRES: f"{time.time() + after_s:.0f}", RUN_ID: run_id}
        body = self.manifest(
            name, node, f"sleep {after_s:.3f}\n{script}", in_pod=in_pod,
            annotations=annotations, wrapped=False,
        )  # fmt: skip
        self._detach(body, where, "ttl helper")

    def hold(
        self,
        node: str,
        script: str,
        name: str,
        *,
        ends_within_s: float,
        annotations: Mapping[str, str],
        where: str,
        what: str,
        ready_when: str | None = None,
    ) -> None:
        """A helper `name`, detached, that runs `script` on `node` with the node's
        processes (`processes` in `manifest`), `script` ending by itself within
        `ends_within_s` seconds; returns once it runs. Its output, if it fails, is
        its log's end (`failure`): `script` runs as the container's own shell, so that
        the SIGTERM of its pod's deletion reaches its traps. `ready_when`: a file the
        script makes once it has done what it holds; the helper is Ready (`ready`)
        only once it exists."""
        body = self.manifest(
            name, node, script, in_pod=False, processes=True, wrapped=False,
            annotations={**annotations, EXPIRES: f"{time.time() + ends_within_s:.0f}"},
        )  # fmt: skip
        if ready_when is not None:
            body["spec"]["containers"][0]["readinessProbe"] = {
                "exec": {"command": ["test", "-e", ready_when]},
                "periodSeconds": 1,
                "timeoutSeconds": 5,
            }
        self._detach(body, where, what)

    def _detach(self, body: dict[str, Any], where: str, what: str) -> None:
        try:
            self.plane.api("POST", self._pods, body)
        except ControlPlaneFailed as exc:
            raise InstanceActionFailed(where, what, str(exc)) from exc
        # armed once it runs: a pod made but never started would leave no TTL
        self._wait(body["metadata"]["name"], where, what, until="running")

    def get(self, name: str) -> dict[str, Any] | None:
        """The helper pod `name` as the API has it; None when there is none."""
        try:
            found: dict[str, Any] = self.plane.api("GET", f"{self._pods}/{name}")
        except ControlPlaneFailed as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        return found

    def listed(self) -> list[dict[str, Any]]:
        """Every helper pod of this kind there is, ended or not."""
        pods: list[dict[str, Any]] = self.plane.api(
            "GET", f"{self._pods}?labelSelector={self.selector}"
        )["items"]
        return pods

    def delete(
        self,
        name: str,
        *,
        inert: Callable[[Mapping[str, Any]], bool] | None = None,
        forget: bool = False,
    ) -> None:
        """Delete a helper and return once its process has ended (one already gone is
        no error): a detached one deleted can no longer act. Deleted with a grace
        period, not forced, so the kubelet stops it before the object may go; the
        object may stay a while after (`ended`), unless `forget`: then it is removed
        once its process has ended. `inert`: a helper that cannot act whatever its
        status says (its node is down: no kubelet will report it)."""
        path = f"{self._pods}/{name}"
        try:
            self.plane.api("DELETE", path, {"gracePeriodSeconds": 1})
        except ControlPlaneFailed as exc:
            if "HTTP 404" in str(exc):
                return
            raise
        deadline = time.monotonic() + HELPER_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                found = self.plane.api("GET", path)
            except ControlPlaneFailed as exc:
                if "HTTP 404" in str(exc):
                    return
                raise
            if ended(found) or (inert is not None and inert(found)):
                if forget:  # over: its object goes now, not at the kubelet's next collection
                    with contextlib.suppress(ControlPlaneFailed):
                        self.plane.api("DELETE", path, {"gracePeriodSeconds": 0})
                return
            time.sleep(0.2)
        raise InstanceActionFailed(name, "remove", "still running a minute later")


def ended(pod: Mapping[str, Any]) -> bool:
    """A helper that can no longer act: it ended, or it is being deleted and its
    container has stopped (the kubelet keeps such a pod a while before it goes)."""
    status = pod.get("status", {})
    if status.get("phase") in ("Succeeded", "Failed"):
        return True
    containers = status.get("containerStatuses", [])
    return bool(
        pod.get("metadata", {}).get("deletionTimestamp")
        and containers
        and all(c.get("state", {}).get("terminated", {}).get("finishedAt") for c in containers)
    )


def ready(pod: Mapping[str, Any]) -> bool:
    """A helper whose container runs and passes its readiness probe."""
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return bool(statuses) and all(
        c.get("ready") is True and "running" in c.get("state", {}) for c in statuses
    )


def _output(found: Mapping[str, Any], name: str, where: str, what: str) -> str:
    """An ended helper's output; InstanceActionFailed with what is known of why when
    it failed, or when its output did not come back whole."""
    if found["status"].get("phase") != "Succeeded":
        raise InstanceActionFailed(where, what, failure(found, name))
    statuses = found["status"].get("containerStatuses") or [{}]
    message = str(statuses[0].get("state", {}).get("terminated", {}).get("message", ""))
    try:
        return decode_output(message)
    except ValueError as exc:
        raise OutputLost(where, what, f"its helper {name}: {exc}") from None


def failure(found: Mapping[str, Any], name: str) -> str:
    """Why a helper failed: its output when it ran, else the kubelet's reasons (a pod
    refused at the node has no container status, only a reason of its own)."""
    status = found.get("status", {})
    said = [str(status[k]) for k in ("reason", "message") if status.get(k)]
    for container in status.get("containerStatuses") or []:
        terminated = container.get("state", {}).get("terminated", {})
        message = str(terminated.get("message", ""))
        try:
            output = decode_output(message).strip()
        except ValueError:
            output = message.strip()[-300:]  # the runtime's own error, its end the useful part
        said += [x for x in (output, terminated.get("reason")) if x]
        if "exitCode" in terminated:
            said.append(f"exit {terminated['exitCode']}")
    node = found.get("spec", {}).get("nodeName")
    return f"its helper {name} on {node} failed: " + ("; ".join(said) or "no reason given")


def stale(pod: Mapping[str, Any], now: float) -> bool:
    """A helper a killed runner left: created longer ago than any helper may run (a
    younger one may be a live run's); a detached one only that long after it was due."""
    metadata = pod.get("metadata", {})
    try:
        since = float(metadata.get("annotations", {})[EXPIRES])
    except (KeyError, TypeError, ValueError):
        since = _seconds(metadata.get("creationTimestamp"))
    return now - since > 2 * HELPER_TIMEOUT_S


def _seconds(stamp: object) -> float:
    if not isinstance(stamp, str):
        return 0.0
    moment = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.timestamp()
