"""The load generator as the runner drives it: started before the warm-up,
stopped after recovery, its client-side metrics served for Prometheus (and
read by the scrape backend) on their own port while it runs, and, for a
Prometheus that cannot reach this machine (a remote cluster's), pushed to it
with remote write."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp

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
from chaos.load.remote_write import RemoteWriter

__all__ = ["GeneratorLoad"]

#: This process, among the runners pushing to one Prometheus.
PUSHER = f"{socket.gethostname()}:{os.getpid()}"


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
        remote_write_url: str | None = None,
    ) -> None:
        """`observers` get every member request's sample as its outcome is known;
        `connection_per_request`: see LoadConfig; `remote_write_url` (a Prometheus's
        `/api/v1/write`): the metrics are pushed there too, as job `load`."""
        self._spec = spec
        self._connection_per_request = connection_per_request
        self._observers = tuple(observers)
        self._targets = targets
        self._host = metrics_host
        self._port = metrics_port
        self._remote_write_url = remote_write_url
        self.metrics = LoadMetrics()
        self._generator: LoadGenerator | None = None
        self._task: asyncio.Task[Any] | None = None
        self._server: contextlib.AsyncExitStack | None = None
        self.metrics_url: str | None = None
        self.remote_writer: RemoteWriter | None = None  # its pushes and failures, once started

    async def start(self) -> None:
        stack = contextlib.AsyncExitStack()
        self.metrics_url = await stack.enter_async_context(
            serve_metrics(self.metrics.registry, self._host, self._port)
        )
        self._server = stack
        if self._remote_write_url is not None:
            # the instance a scrape of /metrics would name (the bound port, for port 0)
            instance = f"{self._host}:{urlsplit(self.metrics_url).port}"
            session = await stack.enter_async_context(aiohttp.ClientSession())
            self.remote_writer = await stack.enter_async_context(
                RemoteWriter(
                    self._remote_write_url,
                    self.metrics.registry,
                    # `pusher`: two runners (or a run and `chaosbed load`) never write
                    # into one series, whose counters would interleave
                    {"job": "load", "instance": instance, "pusher": PUSHER},
                    session=session,
                )
            )
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
        writer = self.remote_writer
        if writer is not None:  # why members' SLIs had no data, when they had none
            pushed = {"url": writer.url, "pushes": writer.pushes, "failures": writer.failures}
            if writer.last_error is not None:
                pushed["last_error"] = writer.last_error
            results = {**results, "remote_write": pushed}
        return results
