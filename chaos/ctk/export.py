"""A chaosbed experiment as a Chaos Toolkit experiment (`chaosbed export --format ctk`).

The CTK experiment carries the chaosbed experiment whole (`extensions`), declares
chaosbed's control, which runs it (chaos.ctk.session), plays each method step as a
`run_step` action in CTK's method, and reads chaosbed's verdict in the hypothesis
after the method (tolerance "held"). So `chaos run` reaches the verdict `chaosbed
run` reaches on the same stack: `completed` when the hypothesis held, `deviated`
when it did not, `interrupted` when the steady state did not hold before any fault,
an abort condition fired, or a step could not be injected (docs/ctk.md).

Steps that follow one another (each starting when the one before it ends, as
written without `offset`) are CTK actions in order; a method with an `offset`
has every step as a background activity, which chaosbed's runner starts at its
offset from the method's start (a pause it can cut short when the run stops).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from chaos.experiment.describe import describe_fault
from chaos.experiment.loader import load_experiment_text, read_file
from chaos.experiment.model import Experiment, Step

from . import actions, control, probes
from .session import EXTENSION

__all__ = ["export_file", "to_ctk"]

#: The hypothesis strategy: chaosbed's control holds the steady state before any
#: fault; CTK reads the verdict once the method has ended.
RUNTIME = {"hypothesis": {"strategy": "after-method-only"}, "rollbacks": {"strategy": "always"}}


def export_file(path: Path) -> dict[str, Any]:
    """The CTK experiment of the chaosbed experiment in `path`; ExperimentError (naming
    the line and field) when it is not a valid one."""
    text = read_file(path)
    experiment = load_experiment_text(text, str(path))
    return to_ctk(experiment, yaml.safe_load(text))


def _sequential(steps: Sequence[Step]) -> bool:
    end = 0.0
    for step in steps:
        if abs(step.offset - end) > 1e-9:
            return False
        end = step.offset + step.duration
    return True


def _step(step: Step, background: bool) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "action",
        "name": f"{step.name}: {describe_fault(step.fault)} for {step.duration:g}s",
        "provider": {
            "type": "python",
            "module": actions.__name__,
            "func": actions.run_step.__name__,
            "arguments": {"step": step.name},
        },
    }
    if background:  # chaosbed's runner starts it at its offset
        activity["background"] = True
    return activity


def to_ctk(experiment: Experiment, document: Mapping[str, Any]) -> dict[str, Any]:
    """The CTK experiment that runs `experiment` (read from `document`)."""
    background = not _sequential(experiment.method)
    verdict = {
        "type": "probe",
        "name": "chaosbed's verdict",
        "tolerance": "held",
        "provider": {"type": "python", "module": probes.__name__, "func": probes.verdict.__name__},
    }
    exported: dict[str, Any] = {
        "version": "1.0.0",
        "title": experiment.title,
        "description": experiment.hypothesis.strip(),
    }
    if experiment.tags:
        exported["tags"] = list(experiment.tags)
    exported |= {
        "extensions": [
            {
                "name": EXTENSION,
                "source": experiment.source,
                "predicts": experiment.predicts,
                "experiment": dict(document),
            }
        ],
        "controls": [
            {"name": "chaosbed", "provider": {"type": "python", "module": control.__name__}}
        ],
        "runtime": RUNTIME,
        "steady-state-hypothesis": {
            "title": f"chaosbed judges: {experiment.title}",
            "probes": [verdict],
        },
        "method": [_step(step, background) for step in experiment.method],
        "rollbacks": [],
    }
    return exported
