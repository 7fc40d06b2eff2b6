"""Experiments as code: the model (`model`), loading and validation (`loader`),
whether a runtime can run one (`runnable`) and its plan (`plan`)."""

from .errors import ExperimentError, FieldError
from .loader import load_experiment, load_experiment_text

__all__ = ["ExperimentError", "FieldError", "load_experiment", "load_experiment_text"]
