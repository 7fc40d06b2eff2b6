"""What the monkey tells others: metrics and a webhook, both fed by its journal.

Metrics (on the monkey's control endpoint, GET /metrics):

- `chaosbed_chaos_actions_total{kind, target, outcome}`: actions by fault kind
  and victim; outcome `injected` when one was injected and verified, `failed`
  when it could not be, `rolled_back` and `rollback_failed` when it ended;
- `chaosbed_chaos_active_faults{kind, target}`: 1 while an action holds its
  fault (the series to draw as annotations over the services' panels; it stays
  1 after a failed rollback, until the fault's TTL ends it);
- `chaosbed_monkey_halted` and `chaosbed_monkey_paused`: 1 while the guard
  halts it or someone paused it;
- `chaosbed_monkey_webhook_failures_total`: posts the webhook did not accept.

The webhook gets one POST per journal line that announces something (every
event but `skipped`), as JSON: `{"source": "chaosbed-monkey", "monkey": ID,
"stack": NAME, "event": ..., "line": {the journal line}}`, in order, from a
queue of at most 1,000 lines (newer ones are dropped and counted as failures
while it is full, as are those still queued when the monkey exits and the
receiver has not taken them within 10 s). A post that fails or answers other
than 2xx is counted, never retried and never stops the monkey.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["MonkeyMetrics", "Webhook", "WEBHOOK_QUEUE"]

WEBHOOK_QUEUE = 1000
_log = logging.getLogger(__name__)


class MonkeyMetrics:
    """The monkey's metrics, kept in step with its journal lines."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.actions = Counter(
            "chaosbed_chaos_actions_total",
            "Chaos actions by fault kind, victim and outcome.",
            ["kind", "target", "outcome"],
            registry=self.registry,
        )
        self.active = Gauge(
            "chaosbed_chaos_active_faults",
            "1 while a chaos action holds its fault on the target.",
            ["kind", "target"],
            registry=self.registry,
        )
        self.halted = Gauge(
            "chaosbed_monkey_halted", "1 while the guard halts the monkey.", registry=self.registry
        )
        self.paused = Gauge(
            "chaosbed_monkey_paused",
            "1 while the monkey is paused by hand.",
            registry=self.registry,
        )
        self.webhook_failures = Counter(
            "chaosbed_monkey_webhook_failures_total",
            "Webhook posts that failed or were dropped.",
            registry=self.registry,
        )
        self._actions: dict[int, tuple[str, str]] = {}  # action number -> (kind, target)
        self._holding: dict[int, int] = {}  # (kind, target) refcount by action

    def __call__(self, line: dict[str, Any]) -> None:
        event = line["event"]
        number = line.get("action")
        if event == "chosen" and isinstance(number, int):
            self._actions[number] = (str(line["fault"]), str(line["victim"]))
            return
        if event in ("halted", "resumed"):
            self.halted.set(1 if event == "halted" else 0)
        elif event in ("paused", "unpaused"):
            self.paused.set(1 if event == "paused" else 0)
        if not isinstance(number, int) or number not in self._actions:
            return
        kind, target = self._actions[number]
        if event == "injected":
            self.actions.labels(kind, target, "injected").inc()
            self._holding[number] = 1
            self.active.labels(kind, target).inc()
        elif event == "failed":
            self.actions.labels(kind, target, "failed").inc()
        elif event in ("rolled_back", "rollback_failed"):
            self._actions.pop(number, None)
            if not self._holding.pop(number, 0):
                return  # never injected: a failed action's rollback is no outcome of its own
            self.actions.labels(kind, target, event).inc()
            if event == "rolled_back":  # a fault whose rollback failed may be there still
                self.active.labels(kind, target).dec()


class Webhook:
    """Posts the journal's announcing lines to `url`, in order, in the background."""

    def __init__(self, url: str, *, monkey: str, stack: str, metrics: MonkeyMetrics,
                 timeout_s: float = 5.0) -> None:  # fmt: skip
        self.url = url
        self.monkey = monkey
        self.stack = stack
        self._metrics = metrics
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(WEBHOOK_QUEUE)
        self.sent = 0

    def __call__(self, line: dict[str, Any]) -> None:
        if line["event"] == "skipped":
            return
        body = {"source": "chaosbed-monkey", "monkey": self.monkey, "stack": self.stack,
                "event": line["event"], "line": line}  # fmt: skip
        try:
            self._queue.put_nowait(body)
        except asyncio.QueueFull:
            self._metrics.webhook_failures.inc()

    async def deliver(self, session: aiohttp.ClientSession) -> None:
        """Post queued lines until `close` is called and the queue is drained."""
        while True:
            body = await self._queue.get()
            if body is None:
                return
            try:
                async with session.post(self.url, json=body, timeout=self._timeout) as answer:
                    if not 200 <= answer.status < 300:
                        raise ValueError(f"HTTP {answer.status}")
                self.sent += 1
            except Exception as error:  # noqa: BLE001 - any failure is counted, none stops it
                self._metrics.webhook_failures.inc()
                _log.warning("webhook %s refused %s: %s", self.url, body["event"], error)

    async def close(self, delivering: asyncio.Task[None], *, timeout_s: float = 10.0) -> None:
        """Let what is queued go out (for at most `timeout_s`), then stop."""
        ended = True
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            ended = False
        try:
            async with asyncio.timeout(timeout_s):
                await delivering
        except TimeoutError:
            delivering.cancel()
            await asyncio.gather(delivering, return_exceptions=True)
            left = self._queue.qsize() - (1 if ended else 0)
            if left > 0:
                self._metrics.webhook_failures.inc(left)
