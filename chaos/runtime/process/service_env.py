"""The environment each supervised process gets (the contract of the services' settings)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from chaos.project import PROJECT_ROOT
from chaos.runtime.stack import ServiceSpec
from chaos.runtime.state_dir import StatePaths
from services.topology import HOST

__all__ = ["service_env", "url_variable", "with_project_on_path"]


def url_variable(service: str) -> str:
    return f"CHAOSBED_{service.upper().replace('-', '_')}_URL"


def with_project_on_path(base_env: Mapping[str, str]) -> dict[str, str]:
    env = dict(base_env)
    existing = env.get("PYTHONPATH", "")
    parts = [str(PROJECT_ROOT)] + [part for part in existing.split(os.pathsep) if part]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    return env


def service_env(
    spec: ServiceSpec,
    stack: Sequence[ServiceSpec],
    paths: StatePaths,
    base_env: Mapping[str, str],
) -> dict[str, str]:
    """`base_env` plus where this service listens and where every other service is.

    The control token is passed through from `base_env` (the supervisor's own
    environment, where `up` put it).
    """
    env = with_project_on_path(base_env)
    env["PYTHONUNBUFFERED"] = "1"
    env["CHAOSBED_HOST"] = HOST
    env["CHAOSBED_PORT"] = str(spec.port)
    env["CHAOSBED_PROFILES_DB"] = str(paths.data_dir / f"{spec.name}.db")
    for other in stack:
        env[url_variable(other.name)] = other.base_url
    env.update(spec.env)
    return env
