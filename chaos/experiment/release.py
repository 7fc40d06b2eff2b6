"""What a `deploy` fault may change: the environment variables of a release.

A deploy restarts instances of a service with some variables set on top of
their own environment, as a bad release would reach them. Only the variables
here may be set, each with its check: a deploy of anything else, or of a
value the service would refuse at start, is refused when the experiment is
loaded, so an invalid deploy never restarts anything.

    CHAOSBED_MUTANT   a named regression (services.common.mutants.MUTANTS) whose
                      branch lives in the target service
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from services.common.mutants import ENV_VARIABLE as MUTANT_VARIABLE
from services.common.mutants import MUTANTS
from services.topology import PROFILES_REPLICAS

__all__ = ["RELEASE_VARIABLES", "release_problem", "service_kind"]


def service_kind(service: str) -> str:
    """The service whose code an instance runs: every profiles replica runs profiles."""
    return "profiles" if service in PROFILES_REPLICAS.values() else service


def _mutant(value: str, target: str) -> str | None:
    name = value.strip()
    if name not in MUTANTS:
        return f"{name!r} is not a known mutant; known: {', '.join(MUTANTS)}"
    kind = service_kind(target)
    if kind not in MUTANTS[name].services:
        where = ", ".join(MUTANTS[name].services)
        return (
            f"mutant {name} has no branch in {target} (only in {where}): "
            "the deploy would change nothing"
        )
    return None


#: variable -> its check (value, target service) -> why it is refused, or None
RELEASE_VARIABLES: Mapping[str, Callable[[str, str], str | None]] = MappingProxyType(
    {MUTANT_VARIABLE: _mutant}
)


def release_problem(variable: str, value: str, target: str) -> str | None:
    """Why `variable=value` cannot be deployed to `target`, or None when it can."""
    check = RELEASE_VARIABLES.get(variable)
    if check is None:
        return (
            f"{variable} cannot be deployed; a release may set only: {', '.join(RELEASE_VARIABLES)}"
        )
    return check(value, target)
