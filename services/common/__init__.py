"""The resilience kit every chaosbed service is built on.

Contract between services (upstream_failure.py): a service that answers
because its own dependency failed, or that dependency's breaker is open,
answers 503 with ``X-Chaosbed-Upstream-Failure: <dependency>`` and
``Retry-After`` (seconds until the breaker half-opens when it is open, else
1). The `Dependency` client never retries such an answer (`UpstreamFailed`),
so a failure deep in the graph is retried once, by the hop nearest it.
"""

from . import mutants
from .body import bad_request, read_json
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
    InvalidField,
    KitError,
    ResponseTooLarge,
    RetryBudgetExhausted,
    TooManyFaultRules,
    UpstreamFailed,
)
from .exchange import Response
from .faults import FaultRegistry, FaultRule, HangEnd, parse_rule
from .keys import DEPENDENCIES, FAULTS, METRICS, READY_CHECKS, SETTINGS
from .metrics import Metrics
from .middleware import json_error
from .server import configure_logging, create_service_app, run_service
from .settings import (
    DependencySettings,
    ServiceSettings,
    SettingsError,
    env_float,
    env_int,
    regional_profiles,
)
from .upstream_failure import UPSTREAM_FAILURE_HEADER, mark_upstream_failure

__all__ = [
    "DEPENDENCIES",
    "FAULTS",
    "METRICS",
    "READY_CHECKS",
    "SETTINGS",
    "UPSTREAM_FAILURE_HEADER",
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
    "HangEnd",
    "InvalidFaultRule",
    "InvalidField",
    "KitError",
    "Metrics",
    "RequestContext",
    "Response",
    "ResponseTooLarge",
    "RetryBudgetExhausted",
    "ServiceSettings",
    "SettingsError",
    "bad_request",
    "TooManyFaultRules",
    "UpstreamFailed",
    "configure_logging",
    "create_service_app",
    "current",
    "current_cohort",
    "env_float",
    "env_int",
    "regional_profiles",
    "json_error",
    "mark_upstream_failure",
    "mutants",
    "parse_rule",
    "read_json",
    "run_service",
]
