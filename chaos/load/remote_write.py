"""Push the client-side metrics to a Prometheus with the remote-write protocol.

A Prometheus inside a remote cluster cannot scrape the runner's machine, so
there the runner pushes instead: `RemoteWriter` sends its registry to
`POST /api/v1/write` (a Prometheus started with
`--web.enable-remote-write-receiver`) every `interval` seconds while its block
runs, and once more on exit, so the final counts arrive.

A request body is remote-write 1.0: a protobuf `prometheus.WriteRequest`
compressed in the snappy block format, both written here by hand (a few
varint and length-delimited fields; no protobuf or snappy dependency):

    WriteRequest  1: repeated TimeSeries
    TimeSeries    1: repeated Label {1: name, 2: value}, sorted by name
                  2: repeated Sample {1: value double, 2: timestamp int64 ms}

A push that fails (no connection, `timeout` exceeded, an answer other than
2xx) never raises into the caller nor stops the pushing: it is counted in
`failures`, and `last_error` says why, so a run can tell why its member SLIs
had no data.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType

import aiohttp
from prometheus_client import CollectorRegistry

__all__ = ["RemoteWriter", "Series", "encode", "registry_series", "snappy_block", "varint"]

HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
DEFAULT_TIMEOUT_S = 5.0
_UINT64 = (1 << 64) - 1
_VARINT, _FIXED64, _LENGTH_DELIMITED = 0, 1, 2


@dataclass(frozen=True)
class Series:
    """One sample of one series; `labels` include `__name__`."""

    labels: Mapping[str, str]
    value: float
    timestamp_ms: int


def varint(number: int) -> bytes:
    """`number` (0 <= number < 2**64) as a protobuf base-128 varint."""
    if not 0 <= number <= _UINT64:
        raise ValueError(f"varint: {number} is outside 0..2**64-1")
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def _message(field: int, payload: bytes) -> bytes:
    return _key(field, _LENGTH_DELIMITED) + varint(len(payload)) + payload


def _string(field: int, text: str) -> bytes:
    return _message(field, text.encode())


def _double(field: int, number: float) -> bytes:
    return _key(field, _FIXED64) + struct.pack("<d", number)


def _int64(field: int, number: int) -> bytes:
    return _key(field, _VARINT) + varint(number & _UINT64)  # two's complement, as protobuf


def _time_series(series: Series) -> bytes:
    labels = b"".join(
        _message(1, _string(1, name) + _string(2, value))
        for name, value in sorted(series.labels.items())
    )
    return labels + _message(2, _double(1, series.value) + _int64(2, series.timestamp_ms))


def snappy_block(data: bytes) -> bytes:
    """`data` in the snappy block format, uncompressed: its length as a varint, then
    one literal element. A block made of literals only is a valid block (the format
    never requires copies), and Prometheus's decoder (golang/snappy) reads it."""
    if not data:
        return varint(0)
    size = len(data)
    if size > 0xFFFFFFFF:
        raise ValueError(f"snappy: {size} bytes is more than a block holds (2**32-1)")
    stored = size - 1  # a literal's tag stores its length minus one
    if stored < 60:
        tag = bytes([stored << 2])
    else:
        width = (stored.bit_length() + 7) // 8  # 1 to 4 little-endian bytes
        tag = bytes([(59 + width) << 2]) + stored.to_bytes(width, "little")
    return varint(size) + tag + data


def encode(series: Iterable[Series]) -> bytes:
    """A remote-write 1.0 request body: a WriteRequest of `series`, snappy-compressed."""
    return snappy_block(b"".join(_message(1, _time_series(s)) for s in series))


def registry_series(
    registry: CollectorRegistry, labels: Mapping[str, str], timestamp_ms: int
) -> list[Series]:
    """Every sample of `registry` as the text exposition names it (counters' `_total`,
    histograms' `_bucket`, `_sum` and `_count`), but not the `_created` ones, all at
    `timestamp_ms` with `labels` added. A sample's own label that `labels` also set is
    kept as `exported_<name>`, as a Prometheus scrape would."""
    pushed = []
    for family in registry.collect():
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            own = {
                (f"exported_{name}" if name in labels else name): value
                for name, value in sample.labels.items()
            }
            pushed.append(
                Series({**own, **labels, "__name__": sample.name}, sample.value, timestamp_ms)
            )
    return pushed


class RemoteWriter:
    """Push `registry` to the remote-write `url` every `interval` seconds while the
    block runs, and once more on exit; `labels` (e.g. job and instance) are added to
    every series. `pushes` counts the pushes that succeeded, `failures` those that
    did not, `last_error` says why the latest failure failed."""

    def __init__(
        self,
        url: str,
        registry: CollectorRegistry,
        labels: Mapping[str, str],
        *,
        session: aiohttp.ClientSession,
        interval: float = 1.0,
        timeout: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval: {interval} s is not positive")
        self.url = url
        self._registry = registry
        self._labels = dict(labels)
        self._session = session
        self._interval = interval
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._last_timestamp_ms = 0
        self._task: asyncio.Task[None] | None = None
        self.pushes = 0
        self.failures = 0
        self.last_error: str | None = None

    async def __aenter__(self) -> RemoteWriter:
        self._task = asyncio.create_task(self._push_every_interval(), name="remote-write")
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])  # never raises the task's cancellation into ours
            if not task.cancelled() and (failure := task.exception()) is not None:
                raise failure  # not a failed push (those are counted): a bug, shown
        await self.push()

    async def push(self) -> bool:
        """Push the registry now; whether Prometheus took it. Never raises a failure."""
        # Prometheus refuses a whole push whose sample is not newer than the last one
        # of its series: a push's timestamp is after the previous push's
        timestamp_ms = max(round(self._clock() * 1000), self._last_timestamp_ms + 1)
        self._last_timestamp_ms = timestamp_ms
        body = encode(registry_series(self._registry, self._labels, timestamp_ms))
        try:
            async with self._session.post(
                self.url, data=body, headers=HEADERS, timeout=self._timeout
            ) as response:
                if response.status // 100 != 2:
                    answer = (await response.text(errors="replace")).strip()
                    return self._failed(f"HTTP {response.status}: {answer[:200]}")
        except TimeoutError:
            return self._failed(f"no answer within {self._timeout.total} s")
        except aiohttp.ClientError as error:
            return self._failed(f"{type(error).__name__}: {error}")
        self.pushes += 1
        return True

    def _failed(self, why: str) -> bool:
        self.failures += 1
        self.last_error = f"remote write to {self.url}: {why}"
        return False

    async def _push_every_interval(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            await self.push()
            # after a push slower than the interval the next one starts at once, no burst
            due = max(due + self._interval, loop.time())
            await asyncio.sleep(due - loop.time())
