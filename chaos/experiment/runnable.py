"""Whether a runtime can run an experiment, checked before anything is touched.

`check_runnable` returns the problems (empty: it can run). What a runtime
offers network faults is its `Capabilities`: the network-fault kinds its
network layer drives (the docker runtime's: those of chaos.faults.network;
the process runtime has no network layer, so none) and whether the kernel
has sch_netem (`has_netem`). A network fault of a kind the runtime
does not drive is refused unless the step says `standin: allowed`, and then
runs as its application-layer stand-in (see `standin`); the dry-run plan and
the runner decide the same way (`uses_standin`).
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .loader import RUNTIMES
from .model import (
    ORCHESTRATOR_FAULTS,
    AppFault,
    Experiment,
    MonkeyFault,
    NetworkFault,
    NodeFault,
    ProcessFault,
    Step,
)
from .standin import standin_faults

__all__ = ["Capabilities", "RunProblem", "check_runnable", "has_netem", "uses_standin"]

NETEM = "sch_netem"
LATENCY_ALTERNATIVE = (
    "use the application-layer fault instead: "
    "{fault: latency, target: SERVICE (or edge: CALLER -> DEPENDENCY), delay_ms: N}"
)


@dataclass(frozen=True)
class Capabilities:
    """What a runtime on this machine offers faults: `netem`, the kernel's sch_netem;
    `network_kinds`, the network-fault kinds its network layer drives (empty: it has
    no network layer); `process_kinds`, the process-fault kinds it can do (None:
    all); `node_faults`, whether it has nodes (a cluster); `app_faults`, whether an
    application-layer fault (a stand-in too) reaches every instance of its target
    (not where a Service's address reaches one pod of several: the cluster runtime);
    `pause_max_s`, the longest pause the runtime keeps (None: any; on the cluster the
    kubelet's liveness probe replaces a frozen container after about 15 s)."""

    netem: bool
    network_kinds: frozenset[str]
    process_kinds: frozenset[str] | None = None
    app_faults: bool = True
    node_faults: bool = False
    pause_max_s: float | None = None
    node_refused: tuple[tuple[str, str], ...] = ()
    """Node-fault kinds this runtime cannot do, each with why (a cluster attached to
    cannot stop a node's machine)."""


@dataclass(frozen=True)
class RunProblem:
    """Why a step (or the experiment, `where` = "runtimes") cannot run in a runtime."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def modprobe_dry_run(module: str) -> bool:
    """Whether `modprobe -n` finds `module` (loadable on demand)."""
    try:
        done = subprocess.run(
            ["modprobe", "-n", "-q", module], capture_output=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def has_netem(root: Path = Path("/"), modprobe: Callable[[str], bool] = modprobe_dry_run) -> bool:
    """sch_netem is there when loaded (/sys/module, /proc/modules), built in, or loadable."""
    if (root / "sys/module" / NETEM).exists():
        return True
    for listing, needle in (
        (root / "proc/modules", f"{NETEM} "),
        (root / "lib/modules" / platform.release() / "modules.builtin", f"/{NETEM}.ko"),
    ):
        try:
            if needle in listing.read_text(errors="replace"):
                return True
        except OSError:
            continue
    return modprobe(NETEM)


def uses_standin(step: Step, capabilities: Capabilities) -> bool:
    """Whether this step runs as an application-layer stand-in: a network fault the
    runtime does not drive, whose step allows a stand-in."""
    fault = step.fault
    if not isinstance(fault, NetworkFault) or not fault.standin_allowed:
        return False
    return fault.kind not in capabilities.network_kinds


def check_runnable(
    experiment: Experiment, runtime: str, capabilities: Capabilities
) -> list[RunProblem]:
    """Every reason `runtime` cannot run `experiment` (none: it can)."""
    if runtime not in RUNTIMES:
        return [
            RunProblem("runtime", f"no runtime called {runtime!r}; one of {', '.join(RUNTIMES)}")
        ]
    problems = []
    if experiment.runtimes and runtime not in experiment.runtimes:
        only = ", ".join(experiment.runtimes)
        problems.append(
            RunProblem("runtimes", f"this experiment runs in {only} only, not {runtime}")
        )
    for index, step in enumerate(experiment.method):
        fault = step.fault
        where = f"method[{index}] ({step.name})"
        refused = _refused_on_runtime(step, runtime, capabilities)
        if refused:
            problems.append(RunProblem(where, refused))
            continue
        if isinstance(fault, MonkeyFault):
            if any(kind == "partition" for kind, _ in fault.menu) and (
                "isolate" not in capabilities.network_kinds
            ):
                why = f"a monkey's partition needs --runtime docker (the {runtime} runtime has "
                problems.append(RunProblem(where, why + "no network layer)"))
            continue
        if not isinstance(fault, NetworkFault):
            continue
        message = _refusal(step, fault, runtime, capabilities)
        if message:
            problems.append(RunProblem(where, message))
    return problems


def _refused_on_runtime(step: Step, runtime: str, capabilities: Capabilities) -> str:
    """Why `runtime` cannot do the step's fault at all (a process kind it lacks, an
    application-layer fault it cannot bring to every instance), or ""."""
    fault = step.fault
    if isinstance(fault, NodeFault) and not capabilities.node_faults:
        return f"a {fault.kind} fault needs --runtime cluster (the {runtime} runtime has no nodes)"
    if isinstance(fault, NodeFault):
        for kind, why in capabilities.node_refused:
            if fault.kind == kind:
                return f"a {kind} fault is not possible here: {why}"
    kinds = capabilities.process_kinds
    if isinstance(fault, ProcessFault) and kinds is not None and fault.kind not in kinds:
        if fault.kind in ORCHESTRATOR_FAULTS:
            return (
                f"a {fault.kind} fault needs --runtime cluster (an orchestrator to replace "
                f"what it deletes; the {runtime} runtime has none)"
            )
        return (
            f"a {fault.kind} fault is not possible in the {runtime} runtime (it does "
            f"{', '.join(sorted(kinds))}): use --runtime process or docker"
        )
    longest = capabilities.pause_max_s
    if isinstance(fault, ProcessFault) and fault.kind == "pause" and longest is not None:
        if step.duration > longest:
            return (
                f"a pause of {step.duration:g}s is longer than the {runtime} runtime keeps one "
                f"({longest:g}s: the kubelet's liveness probe replaces a frozen container "
                "after about 15 s, which would end the fault before its step)"
            )
    if capabilities.app_faults:
        return ""
    if isinstance(fault, MonkeyFault):
        return f"a monkey does not run in the {runtime} runtime: use --runtime process or docker"
    if isinstance(fault, AppFault) or (
        isinstance(fault, NetworkFault) and uses_standin(step, capabilities)
    ):
        return (
            f"application-layer faults (and stand-ins) do not run in the {runtime} runtime: "
            "a rule set through a Service's address would reach one of its pods, not every "
            "one; use --runtime process or docker"
        )
    return ""


def _refusal(step: Step, fault: NetworkFault, runtime: str, capabilities: Capabilities) -> str:
    if fault.kind in capabilities.network_kinds:
        if fault.kind == "bandwidth" and fault.edge is not None:
            return (
                "bandwidth is limited on a target service (egress of its eth0), not on an "
                "edge: use `target:`"
            )
        return ""
    if uses_standin(step, capabilities):
        if standin_faults(fault) is None:
            return (
                f"a {fault.kind} fault has no application-layer stand-in; it needs --runtime docker"
            )
        return ""
    if not capabilities.network_kinds:  # no network layer at all
        if fault.kind == "bandwidth":
            return (
                f"a bandwidth fault needs --runtime docker (the {runtime} runtime has no network "
                "layer, and bandwidth no application-layer stand-in)"
            )
        if fault.kind == "netem_latency":
            return (
                f"netem_latency needs the network layer of --runtime docker; {LATENCY_ALTERNATIVE}"
            )
        return (
            f"a {fault.kind} fault needs the network layer, which the {runtime} runtime does "
            "not have: use --runtime docker, or add `standin: allowed` to the step to run an "
            "application-layer stand-in (drop on the calls it would cut, labelled stand-in)"
        )
    message = (
        f"a {fault.kind} fault has no network-layer driver in the {runtime} runtime; add "
        "`standin: allowed` to the step to run its application-layer stand-in"
    )
    if fault.kind != "netem_latency":
        return message
    kernel = "" if capabilities.netem else " (nor has this machine's kernel sch_netem)"
    return f"{message}{kernel}, or {LATENCY_ALTERNATIVE}"
