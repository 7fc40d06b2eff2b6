"""Typed application keys shared by the kit and the services."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from .dependency import Dependency
from .faults import FaultRegistry
from .metrics import Metrics
from .settings import ServiceSettings

SETTINGS = web.AppKey("settings", ServiceSettings)
METRICS = web.AppKey("metrics", Metrics)
FAULTS = web.AppKey("faults", FaultRegistry)
DEPENDENCIES = web.AppKey("dependencies", dict[str, Dependency])
READY_CHECKS = web.AppKey("ready_checks", list[Callable[[], bool]])
