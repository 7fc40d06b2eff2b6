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
    "REGION_VARIABLE",
    "default_url",
    "regional_profiles_url",
    "url_variable",
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


#: the region a caller of profiles runs in (recommendations, playback): it
#: reads from that region's replica.
REGION_VARIABLE = "CHAOSBED_REGION"


def default_url(service: str) -> str:
    """The base URL of `service` on this machine: ``http://127.0.0.1:<its port>``."""
    return f"http://{HOST}:{PORTS[service]}"


def url_variable(service: str) -> str:
    """The variable that says where `service` answers: CHAOSBED_<NAME>_URL, `-` as `_`."""
    return f"CHAOSBED_{service.upper().replace('-', '_')}_URL"


def regional_profiles_url(env: Mapping[str, str]) -> tuple[str, str]:
    """(region, URL) of the profiles replica a caller reads from.

    The region is `CHAOSBED_REGION` (us, eu or apac; default us); the URL is
    that replica's variable (CHAOSBED_PROFILES_URL for us,
    CHAOSBED_PROFILES_EU_URL, CHAOSBED_PROFILES_APAC_URL) or its default URL.
    ValueError, naming CHAOSBED_REGION, for any other region.
    """
    region = env.get(REGION_VARIABLE, "").strip() or "us"
    if region not in PROFILES_REPLICAS:
        raise ValueError(
            f"{REGION_VARIABLE}={region!r} must be one of {', '.join(PROFILES_REPLICAS)}"
        )
    replica = PROFILES_REPLICAS[region]
    url = env.get(url_variable(replica), "").strip() or default_url(replica)
    return region, url.rstrip("/")
