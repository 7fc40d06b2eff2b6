"""Experiments as code: the model (`model`), loading and validation (`loader`),
whether a runtime can run one (`runnable`), and its plan (`plan`)."""

from .dump import dump_experiment
from .errors import ExperimentError, FieldError
from .loader import load_experiment, load_experiment_text
from .plan import Resolver, render_plan, static_targets
from .runnable import Capabilities, RunProblem, check_runnable, has_netem
from .standin import standin_faults

__all__ = [
    "Capabilities",
    "ExperimentError",
    "FieldError",
    "Resolver",
    "RunProblem",
    "check_runnable",
    "has_netem",
    "dump_experiment",
    "load_experiment",
    "load_experiment_text",
    "render_plan",
    "standin_faults",
    "static_targets",
]
