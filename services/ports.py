"""Where each part of the stack listens: one table, used by the services and the chaos runner.

A leaf module (standard library only, nothing imported at start): the
services take their default port and their dependencies' default URLs from
here, and the chaos runner its stack. Every port is bound on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "GRAFANA_PORT",
    "HOST",
    "PORTS",
    "PROFILES_REPLICAS",
    "PROMETHEUS_PORT",
    "default_url",
]

HOST = "127.0.0.1"

#: service name -> the port it listens on.
PORTS: Mapping[str, int] = MappingProxyType(
    {
        "catalog": 8081,
        "recommendations": 8082,
        "playback": 8083,
        "profiles": 8084,
        "profiles-eu": 8085,
        "profiles-apac": 8086,
    }
)
#: profiles region -> the replica (service name) that serves it; "us" is the
#: original profiles service on 8084.
PROFILES_REPLICAS: Mapping[str, str] = MappingProxyType(
    {"us": "profiles", "eu": "profiles-eu", "apac": "profiles-apac"}
)
PROMETHEUS_PORT = 9090
GRAFANA_PORT = 3000


def default_url(service: str) -> str:
    """The base URL of `service` on this machine: ``http://127.0.0.1:<its port>``."""
    return f"http://{HOST}:{PORTS[service]}"
