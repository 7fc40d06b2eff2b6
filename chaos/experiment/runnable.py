"""Whether a runtime can run an experiment, checked before anything is touched.

`check_runnable` returns the problems (empty: it can run). Network faults
need the docker runtime; in the process runtime they are refused unless the
step says `standin: allowed` (see `standin`). `netem_latency` needs the
kernel's sch_netem; `detect_capabilities` looks for it.
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .loader import RUNTIMES
from .model import Experiment, NetworkFault, Step
from .standin import standin_faults

__all__ = ["Capabilities", "RunProblem", "check_runnable", "detect_capabilities", "uses_standin"]

NETEM = "sch_netem"
LATENCY_ALTERNATIVE = (
    "use the application-layer fault instead: "
    "{fault: latency, target: SERVICE (or edge: CALLER -> DEPENDENCY), delay_ms: N}"
)


@dataclass(frozen=True)
class Capabilities:
    """What the machine's kernel offers the network layer."""

    netem: bool


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


def detect_capabilities(
    root: Path = Path("/"), modprobe: Callable[[str], bool] = modprobe_dry_run
) -> Capabilities:
    """sch_netem is there when loaded (/sys/module, /proc/modules), built in, or loadable."""
    if (root / "sys/module" / NETEM).exists():
        return Capabilities(netem=True)
    for listing, needle in (
        (root / "proc/modules", f"{NETEM} "),
        (root / "lib/modules" / platform.release() / "modules.builtin", f"/{NETEM}.ko"),
    ):
        try:
            if needle in listing.read_text(errors="replace"):
                return Capabilities(netem=True)
        except OSError:
            continue
    return Capabilities(netem=modprobe(NETEM))


def uses_standin(step: Step, runtime: str, capabilities: Capabilities) -> bool:
    """Whether this step runs as an application-layer stand-in in `runtime`."""
    fault = step.fault
    if not isinstance(fault, NetworkFault) or not fault.standin_allowed:
        return False
    if runtime == "process":
        return True
    return fault.kind == "netem_latency" and not capabilities.netem


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
        if not isinstance(fault, NetworkFault):
            continue
        where = f"method[{index}] ({step.name})"
        message = _refusal(step, fault, runtime, capabilities)
        if message:
            problems.append(RunProblem(where, message))
    return problems


def _refusal(step: Step, fault: NetworkFault, runtime: str, capabilities: Capabilities) -> str:
    if uses_standin(step, runtime, capabilities):
        if standin_faults(fault) is None:
            return (
                f"a {fault.kind} fault has no application-layer stand-in; it needs --runtime docker"
            )
        return ""
    if runtime == "process":
        if fault.kind == "bandwidth":
            return "a bandwidth fault needs --runtime docker (it has no application-layer stand-in)"
        if fault.kind == "netem_latency":
            return (
                f"netem_latency needs the network layer of --runtime docker; {LATENCY_ALTERNATIVE}"
            )
        return (
            f"a {fault.kind} fault needs the network layer, which the process runtime does not "
            "have: use --runtime docker, or add `standin: allowed` to the step to run an "
            "application-layer stand-in (drop on the calls it would cut, labelled stand-in)"
        )
    if fault.kind == "netem_latency" and not capabilities.netem:
        return (
            "netem_latency needs the kernel's sch_netem, which this machine does not have; "
            f"{LATENCY_ALTERNATIVE} (or add `standin: allowed` to the step)"
        )
    return ""
