"""The helper pods' parts that run without a cluster: the wrapper that hands a
command's output back as a termination message (run by a real shell here), what
a helper pod asks of its node, and which helpers a killed runner left (the
helpers on real nodes: tests/cluster/test_stack_on_cluster.py)."""

from __future__ import annotations

import base64
import datetime
import os
import shlex
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from chaos.runtime.cluster.control_plane import ControlPlaneFailed
from chaos.runtime.cluster.helper_pods import (
    EXPIRES,
    HELPER_TIMEOUT_S,
    MESSAGE_LIMIT,
    HelperPods,
    batch_command,
    batch_results,
    decode_output,
    ended,
    pod_command,
    stale,
    wrap,
)
from chaos.runtime.cluster.helper_pods import ready as helper_ready
from chaos.runtime.errors import InstanceActionFailed

NOW = 1_800_000_000.0


def run_wrapped(script: str, tmp_path: Path) -> tuple[int, str]:
    message = tmp_path / "termination-log"
    done = subprocess.run(["sh", "-c", wrap(script, str(message))], check=False, timeout=30)
    return done.returncode, message.read_text()


def test_the_output_comes_back_whole_with_the_exit_status(tmp_path: Path) -> None:
    lines = "".join(f"-A cb-x -d 10.{j}.{i}.0/24 -j DROP\n" for i in range(250) for j in (0, 1))
    status, message = run_wrapped(f"printf '%s' {shlex.quote(lines)}; echo err >&2", tmp_path)
    assert status == 0
    assert len(lines) > 2 * MESSAGE_LIMIT  # more than the kubelet keeps, compressed to fit
    assert decode_output(message) == lines + "err\n"

    status, message = run_wrapped("echo no such chain; exit 3", tmp_path)
    assert (status, decode_output(message)) == (3, "no such chain\n")


def test_an_output_that_cannot_fit_is_an_error_not_a_truncated_answer(tmp_path: Path) -> None:
    noise = os.urandom(6000).hex()
    status, message = run_wrapped(f"echo {noise}", tmp_path)
    assert status == 0
    with pytest.raises(ValueError, match="4096-byte limit"):
        decode_output(message[:MESSAGE_LIMIT])  # what the kubelet would keep of it
    with pytest.raises(ValueError, match="did not come back whole"):
        decode_output("iptables: No chain/target/match by that name.")


def test_each_command_of_a_batch_ends_only_itself_and_comes_back_with_its_status(
    tmp_path: Path,
) -> None:
    """A pod's command ends in `exec nsenter` and may `exit`: neither ends the batch."""
    scripts = [
        "echo one; echo err >&2",
        "echo no such chain >&2; exit 3",
        "exec " + shlex.join(["sh", "-c", 'printf %s "$1"; exit 5', "x", 'it\'s "q"']),
        "set -e; false; echo never",
        "echo last",
    ]
    status, message = run_wrapped(batch_command(scripts), tmp_path)
    assert status == 0
    assert batch_results(decode_output(message), len(scripts)) == [
        (0, "one\nerr\n"),
        (3, "no such chain\n"),
        (5, 'it\'s "q"'),
        (1, ""),
        (0, "last\n"),
    ]


def test_what_is_not_a_batchs_results_is_an_error() -> None:
    with pytest.raises(ValueError, match="2 results for a batch of 3"):
        batch_results('[[0, "a"], [1, "b"]]\n', 3)
    with pytest.raises(ValueError, match="not a batch's results"):
        batch_results("sh: mktemp: not found\n", 1)
    with pytest.raises(ValueError, match="not a batch's results"):
        batch_results("", 1)


def test_a_command_in_a_pod_keeps_its_arguments_as_given() -> None:
    argv = ["python3", "-c", "print('it''s \"quoted\"')\n$HOME `x`", "a b"]
    script = pod_command("6f1c-aa", argv)
    # the kubelet's cgroup of the pod, cgroupfs and systemd names
    assert "-e /pod6f1c-aa/ -e -pod6f1c_aa.slice -e '/pod6f1c-aa$'" in script
    assert shlex.split(script[script.index("exec nsenter") :]) == [
        "exec", "nsenter", "-t", "$pid", "-n", "--", *argv
    ]  # fmt: skip


def test_a_helper_in_a_pod_sees_the_nodes_processes_one_on_the_node_only_its_network() -> None:
    helpers = HelperPods(plane=None, kind="chaosbed-net-helper")  # type: ignore[arg-type]
    in_pod = helpers.manifest("h1", "cb-eu", "true", in_pod=True)
    on_node = helpers.manifest("h2", "cb-eu", "true", in_pod=False)
    for pod in (in_pod, on_node):
        spec = pod["spec"]
        assert spec["nodeName"] == "cb-eu" and spec["restartPolicy"] == "Never"
        assert spec["automountServiceAccountToken"] is False and spec["hostNetwork"] is True
        assert pod["metadata"]["labels"] == {"app.kubernetes.io/part-of": "chaosbed-net-helper"}
    assert in_pod["spec"]["hostPID"] is True
    assert in_pod["spec"]["containers"][0]["securityContext"] == {
        "runAsUser": 0, "capabilities": {"add": ["NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE"]}
    }  # fmt: skip
    assert "hostPID" not in on_node["spec"]
    assert on_node["spec"]["containers"][0]["securityContext"] == {
        "runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}
    }  # fmt: skip


def stamp(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_helper_is_stale_only_well_after_it_was_made_or_due() -> None:
    young = {"metadata": {"creationTimestamp": stamp(NOW - HELPER_TIMEOUT_S)}}
    old = {"metadata": {"creationTimestamp": stamp(NOW - 3 * HELPER_TIMEOUT_S)}}
    assert not stale(young, NOW) and stale(old, NOW)
    # a TTL helper made long ago that acts later is a live one until well after it acts
    waiting = {
        "metadata": {
            "creationTimestamp": stamp(NOW - 3600),
            "annotations": {EXPIRES: f"{NOW + 30:.0f}"},
        }
    }
    assert not stale(waiting, NOW)
    assert stale(waiting, NOW + 30 + 3 * HELPER_TIMEOUT_S)


def test_a_deleted_helper_is_done_only_once_its_container_has_stopped() -> None:
    running = {"state": {"running": {"startedAt": "x"}}}
    stopped = {"state": {"terminated": {"exitCode": 137, "finishedAt": "2026-12-06T05:00:01Z"}}}
    # what the kubelet may say of a container it was still starting when deleted
    unknown = {"state": {"terminated": {"exitCode": 137}}}
    deleting = {"deletionTimestamp": "2026-12-06T05:00:00Z"}
    assert not ended({"metadata": deleting, "status": {"containerStatuses": [running]}})
    assert not ended({"metadata": deleting, "status": {"containerStatuses": []}})
    assert not ended({"metadata": {}, "status": {"containerStatuses": [stopped]}})
    assert ended({"metadata": deleting, "status": {"containerStatuses": [stopped]}})
    assert not ended({"metadata": deleting, "status": {"containerStatuses": [unknown]}})
    assert ended({"metadata": {}, "status": {"phase": "Succeeded"}})


class ScriptedApi:
    """The Kubernetes API as a helper sees it: the pod's states, in turn, for its GETs
    (the last one repeated), then 404 once deleted when `gone_after_delete`."""

    def __init__(self, *states: dict[str, Any], gone_after_delete: bool = False) -> None:
        self.states = list(states)
        self.calls: list[tuple[str, str, Any]] = []
        self.deleted = False
        self.gone_after_delete = gone_after_delete

    def api(self, method: str, path: str, body: Any = None) -> Any:
        self.calls.append((method, path, body))
        if method == "DELETE":
            self.deleted = True
            return {}
        if method == "GET":
            if self.deleted and self.gone_after_delete:
                raise ControlPlaneFailed(f"GET {path}: HTTP 404: not found")
            return self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {}


def terminated(phase: str, message: str, code: int, reason: str = "") -> dict[str, Any]:
    state = {"message": message, "exitCode": code, "finishedAt": "2026-12-06T05:00:01Z"}
    if reason:
        state["reason"] = reason
    return {
        "spec": {"nodeName": "cb-eu"},
        "status": {"phase": phase, "containerStatuses": [{"state": {"terminated": state}}]},
    }


def compressed(text: str) -> str:
    return base64.b64encode(zlib.compress(text.encode())).decode()


def test_a_helpers_output_comes_back_and_the_ended_pod_is_deleted() -> None:
    api = ScriptedApi(
        {"status": {"phase": "Pending"}}, terminated("Succeeded", compressed("5\n"), 0)
    )
    helpers = HelperPods(api, "chaosbed-net-helper")  # type: ignore[arg-type]
    assert helpers.run("cb-eu", "iptables -S | wc -l", "list", where="catalog-a") == "5\n"
    assert [c[0] for c in api.calls] == ["POST", "GET", "GET", "DELETE"]


def test_a_failed_helper_says_why_from_its_output_or_the_kubelets_reasons() -> None:
    failed = terminated("Failed", compressed("no process of the pod u-1 runs on this node\n"), 3)
    helpers = HelperPods(ScriptedApi(failed), "k")  # type: ignore[arg-type]
    with pytest.raises(InstanceActionFailed, match="no process of the pod u-1.*exit 3"):
        helpers.run("cb-eu", "true", "network", where="catalog-a")

    runtime_error = "OCI runtime create failed: unable to apply caps: operation not permitted"
    crashed = terminated("Failed", runtime_error, 128, reason="ContainerCannotRun")
    with pytest.raises(InstanceActionFailed, match="unable to apply caps.*ContainerCannotRun"):
        HelperPods(ScriptedApi(crashed), "k").run("cb-eu", "true", "network")  # type: ignore[arg-type]

    # refused by the node: no container status at all, only the pod's reason
    refused = {
        "spec": {"nodeName": "cb-eu"},
        "status": {
            "phase": "Failed",
            "reason": "OutOfmemory",
            "message": "Node didn't have enough",
        },
    }
    with pytest.raises(InstanceActionFailed, match="cb-eu failed: OutOfmemory; Node didn't have"):
        HelperPods(ScriptedApi(refused), "k").run("cb-eu", "true", "network")  # type: ignore[arg-type]


def test_a_helper_that_cannot_start_fails_at_once_and_is_stopped_before_it_could_act() -> None:
    waiting = {
        "spec": {"nodeName": "cb-eu"},
        "status": {
            "phase": "Pending",
            "containerStatuses": [{"state": {"waiting": {"reason": "ErrImageNeverPull"}}}],
        },
    }
    api = ScriptedApi(waiting, gone_after_delete=True)
    with pytest.raises(InstanceActionFailed, match="ErrImageNeverPull"):
        HelperPods(api, "k").run("cb-eu", "true", "network")  # type: ignore[arg-type]
    # not a forced deletion: waited for until gone
    assert [c for c in api.calls if c[0] == "DELETE"][0][2] == {"gracePeriodSeconds": 1}
    assert api.calls[-1][0] == "GET"


def test_a_ttl_helper_is_armed_only_once_it_runs() -> None:
    running = {"status": {"phase": "Running", "containerStatuses": [{"state": {"running": {}}}]}}
    api = ScriptedApi({"status": {"phase": "Pending"}}, running)
    HelperPods(api, "k").start(  # type: ignore[arg-type]
        "cb-eu", "true", "chaosbed-ttl-1", after_s=25, in_pod=True, run_id="r", where="catalog-a"
    )
    assert [c[0] for c in api.calls] == ["POST", "GET", "GET"]
    posted = api.calls[0][2]
    assert posted["metadata"]["annotations"][EXPIRES] and posted["spec"]["hostPID"] is True

    evicted = {"spec": {"nodeName": "cb-eu"}, "status": {"phase": "Failed", "reason": "Evicted"}}
    with pytest.raises(InstanceActionFailed, match="catalog-a.*Evicted"):
        HelperPods(ScriptedApi(evicted), "k").start(  # type: ignore[arg-type]
            "cb-eu", "true", "chaosbed-ttl-2", after_s=25, in_pod=True, run_id="r",
            where="catalog-a",
        )  # fmt: skip


def test_a_helper_that_signals_a_pods_processes_sees_the_nodes_and_may_only_signal() -> None:
    helpers = HelperPods(plane=None, kind="chaosbed-helper")  # type: ignore[arg-type]
    pod = helpers.manifest("h", "cb-eu", "true", in_pod=False, processes=True)
    assert pod["spec"]["hostPID"] is True and pod["spec"]["hostNetwork"] is True
    assert pod["spec"]["containers"][0]["securityContext"] == {
        "runAsUser": 0, "capabilities": {"add": ["KILL"]}
    }  # fmt: skip


def test_a_held_helper_runs_its_script_as_its_own_shell_and_is_armed_once_it_runs() -> None:
    running = {"status": {"phase": "Running", "containerStatuses": [{"state": {"running": {}}}]}}
    api = ScriptedApi({"status": {"phase": "Pending"}}, running)
    script = "trap 'kill -CONT 7; exit 0' TERM\nkill -STOP 7\nsleep 20 & wait $!\n"
    HelperPods(api, "k").hold(  # type: ignore[arg-type]
        "cb-eu", script, "chaosbed-pause-1", ends_within_s=20,
        annotations={"chaosbed.io/pauses": "u-1"}, where="playback-a", what="pause",
        ready_when="/tmp/paused",
    )  # fmt: skip
    assert [c[0] for c in api.calls] == ["POST", "GET", "GET"]
    posted = api.calls[0][2]
    # not wrapped in a subshell: the SIGTERM of its pod's deletion reaches the trap
    assert posted["spec"]["containers"][0]["command"] == ["sh", "-c", script]
    assert posted["spec"]["hostPID"] is True
    # Ready only once the script has done what it holds
    probe = posted["spec"]["containers"][0]["readinessProbe"]
    assert probe["exec"] == {"command": ["test", "-e", "/tmp/paused"]}
    annotations = posted["metadata"]["annotations"]
    assert annotations["chaosbed.io/pauses"] == "u-1" and float(annotations[EXPIRES]) > 0


def test_a_helper_deleted_to_be_forgotten_goes_from_the_api_once_it_has_ended() -> None:
    stopped = {
        "metadata": {"deletionTimestamp": "2026-12-06T05:00:00Z"},
        "status": {"containerStatuses": [{"state": {"terminated": {"finishedAt": "x"}}}]},
    }
    api = ScriptedApi(stopped)
    HelperPods(api, "k").delete("chaosbed-pause-1", forget=True)  # type: ignore[arg-type]
    deletes = [c[2] for c in api.calls if c[0] == "DELETE"]
    assert deletes == [{"gracePeriodSeconds": 1}, {"gracePeriodSeconds": 0}]


def test_a_helper_is_ready_only_while_it_runs_and_passes_its_probe() -> None:
    def pod(ready: object, state: str = "running") -> dict[str, Any]:
        return {"status": {"containerStatuses": [{"ready": ready, "state": {state: {}}}]}}

    assert helper_ready(pod(True))
    assert not helper_ready(pod(False)) and not helper_ready(pod(None))
    assert not helper_ready(pod(True, state="terminated"))
    assert not helper_ready({"status": {}})
