"""The resilience kit every chaosbed service is built on."""

from .context import RequestContext, current, current_cohort
from .dependency import Dependency
from .errors import (
    BulkheadFull,
    CircuitOpen,
    DeadlineExceeded,
    DependencyError,
    DependencyHTTPError,
    DependencyOverloaded,
    DependencyTimeout,
    DependencyUnavailable,
    InvalidFaultRule,
    KitError,
    ResponseTooLarge,
    RetryBudgetExhausted,
)
from .exchange import Response
from .faults import FaultRegistry, FaultRule, parse_rule
from .keys import DEPENDENCIES, FAULTS, METRICS, READY_CHECKS, SETTINGS
from .metrics import Metrics
from .middleware import json_error
from .server import configure_logging, create_service_app, run_service
from .settings import DependencySettings, ServiceSettings, SettingsError, env_float, env_int

__all__ = [
    "DEPENDENCIES",
    "FAULTS",
    "METRICS",
    "READY_CHECKS",
    "SETTINGS",
    "BulkheadFull",
    "CircuitOpen",
    "DeadlineExceeded",
    "Dependency",
    "DependencyError",
    "DependencyHTTPError",
    "DependencyOverloaded",
    "DependencySettings",
    "DependencyTimeout",
    "DependencyUnavailable",
    "FaultRegistry",
    "FaultRule",
    "InvalidFaultRule",
    "KitError",
    "Metrics",
    "RequestContext",
    "Response",
    "ResponseTooLarge",
    "RetryBudgetExhausted",
    "ServiceSettings",
    "SettingsError",
    "configure_logging",
    "create_service_app",
    "current",
    "current_cohort",
    "env_float",
    "env_int",
    "json_error",
    "parse_rule",
    "run_service",
]
