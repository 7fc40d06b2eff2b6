"""The load generator as the runner drives it: started before the warm-up,
stopped after recovery, its client-side metrics served for Prometheus (and
read by the scrape backend) on their own port while it runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from chaos.experiment.model import LoadSpec
from chaos.load import (
    MAX_DURATION_S,
    LoadConfig,
    LoadGenerator,
    LoadMetrics,
    Targets,
    serve_metrics,
)
from chaos.load.generator import Observer

__all__ = ["GeneratorLoad"]


class GeneratorLoad:
    def __init__(
        self,
        spec: LoadSpec,
        targets: Targets,
        *,
        metrics_host: str = "127.0.0.1",
        metrics_port: int = 9095,
        observers: Sequence[Observer] = (),
        connection_per_request: bool = False,
    ) -> None:
        """`observers` get every member request's sample as its outcome is known;
        `connection_per_request`: see LoadConfig."""
        self._spec = spec
        self._connection_per_request = connection_per_request
        self._observers = tuple(observers)
        self._targets = targets
        self._host = metrics_host
        self._port = metrics_port
        self.metrics = LoadMetrics()
        self._generator: LoadGenerator | None = None
        self._task: asyncio.Task[Any] | None = None
        self._server: contextlib.AsyncExitStack | None = None
        self.metrics_url: str | None = None

    async def start(self) -> None:
        stack = contextlib.AsyncExitStack()
        self.metrics_url = await stack.enter_async_context(
            serve_metrics(self.metrics.registry, self._host, self._port)
        )
        self._server = stack
        config = LoadConfig(
            self._spec,
            MAX_DURATION_S,
            targets=self._targets,
            connection_per_request=self._connection_per_request,
        )
        self._generator = LoadGenerator(config, metrics=self.metrics, observers=self._observers)
        self._task = asyncio.create_task(self._generator.run(), name="member-load")

    def member_counts(self) -> Mapping[tuple[tuple[str, str], ...], float]:
        return self.metrics.member_counts()

    async def stop(self) -> Mapping[str, Any]:
        results: Mapping[str, Any] = {}
        try:
            if self._generator is not None and self._task is not None:
                self._generator.stop()
                outcome = await self._task
                results = outcome.to_json()
        finally:
            if self._server is not None:
                await self._server.aclose()
                self._server = None
        return results
