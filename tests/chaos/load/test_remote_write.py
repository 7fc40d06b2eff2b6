"""Remote write: the hand-written body decodes, a real Prometheus takes it, and a
failed push is counted, never raised. Bodies are read back with the small
snappy-literal and protobuf decoders below; `receiver` is a real aiohttp app on
loopback that records what it is sent."""

from __future__ import annotations

import asyncio
import struct
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from chaos.experiment.model import LoadSpec
from chaos.load.remote_write import (
    HEADERS,
    RemoteWriter,
    Series,
    encode,
    registry_series,
    snappy_block,
    varint,
)
from chaos.runner.load_driver import PUSHER, GeneratorLoad
from chaos.runtime.prometheus import (
    PrometheusProcess,
    find_prometheus,
    prometheus_command,
    write_prometheus_config,
)

from .conftest import Upstream, free_port

LABELS = {"job": "load", "instance": "127.0.0.1:9095"}
Labels = list[tuple[str, str]]
Pushed = list[tuple[Labels, list[tuple[float, int]]]]  # each series: its labels, its samples


# ------------------------------------------------------------ the decoders


def read_varint(data: bytes, at: int) -> tuple[int, int]:
    number = shift = 0
    while True:
        byte = data[at]
        at += 1
        number |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return number, at


def unsnappy(block: bytes) -> bytes:
    """A snappy block made of literals only, decoded (a copy element fails)."""
    size, at = read_varint(block, 0)
    out = bytearray()
    while at < len(block):
        tag = block[at]
        at += 1
        assert tag & 3 == 0, f"element {tag:#x} is not a literal"
        length = tag >> 2
        if length >= 60:
            width = length - 59
            length = int.from_bytes(block[at : at + width], "little")
            at += width
        out += block[at : at + length + 1]
        at += length + 1
    assert len(out) == size
    return bytes(out)


def fields(message: bytes) -> Iterator[tuple[int, Any]]:
    at = 0
    while at < len(message):
        key, at = read_varint(message, at)
        wire_type = key & 7
        value: int | bytes
        if wire_type == 0:
            value, at = read_varint(message, at)
        elif wire_type == 1:
            value, at = message[at : at + 8], at + 8
        else:
            assert wire_type == 2, wire_type
            length, at = read_varint(message, at)
            value, at = message[at : at + length], at + length
        yield key >> 3, value


def decode(body: bytes) -> Pushed:
    """A remote-write body as [(labels in their order, [(value, timestamp ms)])]."""
    decoded = []
    for number, series in fields(unsnappy(body)):
        assert number == 1
        labels, samples = [], []
        for part, payload in fields(series):
            content = dict(fields(payload))
            if part == 1:
                labels.append((content[1].decode(), content[2].decode()))
            else:
                samples.append((struct.unpack("<d", content[1])[0], content[2]))
        decoded.append((labels, samples))
    return decoded


def values(pushed: Pushed) -> dict[tuple[tuple[str, str], ...], float]:
    """Each series' value by its labels, from a push of one sample per series."""
    return {tuple(labels): value for labels, [(value, _)] in pushed}


# ------------------------------------------------------------ the encoding


@pytest.mark.parametrize(
    ("number", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (300, b"\xac\x02"),
        (2**63, b"\x80" * 9 + b"\x01"),
        (2**64 - 1, b"\xff" * 9 + b"\x01"),
    ],
)
def test_a_varint_is_seven_bits_a_byte_low_first(number: int, encoded: bytes) -> None:
    assert varint(number) == encoded


@pytest.mark.parametrize("number", [-1, 2**64])
def test_a_varint_outside_uint64_is_refused(number: int) -> None:
    with pytest.raises(ValueError, match="varint"):
        varint(number)


@given(st.integers(0, 2**64 - 1))
def test_every_uint64_varint_reads_back(number: int) -> None:
    assert read_varint(varint(number), 0) == (number, len(varint(number)))


@pytest.mark.parametrize(
    ("size", "tag"),
    [
        (1, b"\x00"),
        (60, bytes([59 << 2])),
        (61, bytes([60 << 2, 60])),
        (256, bytes([60 << 2, 255])),
        (257, bytes([61 << 2]) + (256).to_bytes(2, "little")),
        (65537, bytes([62 << 2]) + (65536).to_bytes(3, "little")),
        (2**24 + 1, bytes([63 << 2]) + (2**24).to_bytes(4, "little")),
    ],
)
def test_a_snappy_block_is_its_length_then_one_literal(size: int, tag: bytes) -> None:
    data = bytes(i % 251 for i in range(size))
    block = snappy_block(data)
    assert block == varint(size) + tag + data
    assert unsnappy(block) == data


def test_an_empty_snappy_block_is_its_zero_length() -> None:
    assert snappy_block(b"") == b"\x00"


@given(st.binary(max_size=5000))
def test_every_snappy_block_decodes_back(data: bytes) -> None:
    assert unsnappy(snappy_block(data)) == data


def test_a_write_request_is_encoded_field_by_field() -> None:
    body = encode([Series({"__name__": "up"}, 1.0, 0)])
    label = b"\x0a\x08__name__\x12\x02up"
    sample = b"\x09" + struct.pack("<d", 1.0) + b"\x10\x00"
    series = b"\x0a" + bytes([len(label)]) + label + b"\x12" + bytes([len(sample)]) + sample
    request = b"\x0a" + bytes([len(series)]) + series
    assert unsnappy(body) == request


def test_a_series_labels_are_sorted_by_name() -> None:
    body = encode([Series({"zone": "eu", "__name__": "m", "Job": "x", "app": "a"}, 2.5, 7)])
    assert decode(body) == [
        ([("Job", "x"), ("__name__", "m"), ("app", "a"), ("zone", "eu")], [(2.5, 7)])
    ]


def test_a_negative_timestamp_is_a_ten_byte_twos_complement() -> None:
    [(_, [(_, timestamp)])] = decode(encode([Series({"__name__": "m"}, 0.0, -1)]))
    assert timestamp == 2**64 - 1


# ------------------------------------------------------------ the registry's series


def a_registry() -> tuple[CollectorRegistry, Counter, Histogram]:
    registry = CollectorRegistry()
    requests = Counter("rw_requests", "Requests.", ["outcome"], registry=registry)
    duration = Histogram("rw_duration_seconds", "Latency.", buckets=(0.1, 1.0), registry=registry)
    requests.labels("ok").inc(3)
    requests.labels("error").inc()
    duration.observe(0.05)
    duration.observe(0.5)
    return registry, requests, duration


def test_a_histogram_is_pushed_as_its_buckets_sum_and_count() -> None:
    registry, _, _ = a_registry()
    pushed = {
        s.labels["__name__"] + str(s.labels.get("le", "")): s.value
        for s in registry_series(registry, LABELS, 1000)
        if s.labels["__name__"].startswith("rw_duration")
    }
    assert pushed == {
        "rw_duration_seconds_bucket0.1": 1,
        "rw_duration_seconds_bucket1.0": 2,
        "rw_duration_seconds_bucket+Inf": 2,
        "rw_duration_seconds_count": 2,
        "rw_duration_seconds_sum": 0.55,
    }


def test_the_pushed_samples_are_those_of_the_text_exposition_without_created() -> None:
    registry, _, _ = a_registry()
    exposed = {
        (s.name, tuple(sorted({**s.labels, **LABELS}.items())), s.value)
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
        if not s.name.endswith("_created")
    }
    pushed = {
        (
            s.labels["__name__"],
            tuple(sorted((k, v) for k, v in s.labels.items() if k != "__name__")),
            s.value,
        )
        for s in registry_series(registry, LABELS, 1000)
    }
    assert pushed == exposed
    assert all(s.timestamp_ms == 1000 for s in registry_series(registry, LABELS, 1000))


def test_a_sample_label_the_push_also_sets_is_kept_as_exported() -> None:
    registry = CollectorRegistry()
    Counter("rw_jobs", "Jobs.", ["job"], registry=registry).labels("batch").inc()
    [series] = [
        s for s in registry_series(registry, LABELS, 0) if s.labels["__name__"] == "rw_jobs_total"
    ]
    assert series.labels == {"__name__": "rw_jobs_total", "exported_job": "batch", **LABELS}


# ------------------------------------------------------------ pushing


@dataclass
class Receiver:
    """A remote-write endpoint that records each push; `status` is its answer and,
    while `stalled`, it answers nothing until the test ends."""

    server: TestServer
    status: int = 204
    stalled: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/v1/write"))


RECEIVER = web.AppKey("receiver", Receiver)


async def _write(request: web.Request) -> web.Response:
    receiver = request.app[RECEIVER]
    receiver.received.append((dict(request.headers), await request.read()))
    if receiver.stalled:
        await receiver.release.wait()
    return web.Response(status=receiver.status, text="out of order sample")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_post("/api/v1/write", _write)
    server = TestServer(app, host="127.0.0.1")
    app[RECEIVER] = fake = Receiver(server)
    await server.start_server()
    yield fake
    fake.release.set()
    await server.close()


def latest_push(receiver: Receiver) -> Pushed:
    """The decoded push of the latest timestamp: a push cancelled in flight at exit
    may be received after the one the exit sends."""
    pushes = [decode(body) for _, body in receiver.received]
    return max(pushes, key=lambda pushed: pushed[0][1][0][1])


def writer_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "remote-write"]


async def test_a_push_carries_the_remote_write_headers_and_the_registry(
    receiver: Receiver,
) -> None:
    registry, _, _ = a_registry()
    async with aiohttp.ClientSession() as session:
        writer = RemoteWriter(receiver.url, registry, LABELS, session=session, clock=lambda: 12.5)
        assert await writer.push()
    [(headers, body)] = receiver.received
    assert {name: headers[name] for name in HEADERS} == {
        "Content-Encoding": "snappy",
        "Content-Type": "application/x-protobuf",
        "X-Prometheus-Remote-Write-Version": "0.1.0",
    }
    key = (("__name__", "rw_requests_total"), ("instance", "127.0.0.1:9095"), ("job", "load"))
    assert values(decode(body))[(*key, ("outcome", "ok"))] == 3
    assert {timestamp for _, [(_, timestamp)] in decode(body)} == {12500}
    assert (writer.pushes, writer.failures, writer.last_error) == (1, 0, None)


async def test_pushes_repeat_while_the_block_runs_and_the_last_on_exit_has_the_final_count(
    receiver: Receiver,
) -> None:
    registry, requests, _ = a_registry()
    async with aiohttp.ClientSession() as session:
        writer = RemoteWriter(receiver.url, registry, LABELS, session=session, interval=0.05)
        async with writer, asyncio.timeout(10):
            while writer.pushes < 3:
                await asyncio.sleep(0.01)
            requests.labels("ok").inc(100)
        assert writer_tasks() == []
    assert len(receiver.received) >= writer.pushes >= 4  # one cancelled in flight: not counted
    key = (("__name__", "rw_requests_total"), ("instance", "127.0.0.1:9095"), ("job", "load"))
    assert values(latest_push(receiver))[(*key, ("outcome", "ok"))] == 103


async def test_a_push_is_timestamped_after_the_last_even_when_the_clock_stands_still(
    receiver: Receiver,
) -> None:
    registry, _, _ = a_registry()
    async with aiohttp.ClientSession() as session:
        writer = RemoteWriter(receiver.url, registry, LABELS, session=session, clock=lambda: 1.0)
        for _ in range(3):
            await writer.push()
    stamps = [{ts for _, [(_, ts)] in decode(body)} for _, body in receiver.received]
    assert stamps == [{1000}, {1001}, {1002}]


async def test_a_push_to_a_closed_port_is_counted_and_the_pushing_goes_on(closed_url: str) -> None:
    registry, _, _ = a_registry()
    async with aiohttp.ClientSession() as session:
        url = f"{closed_url}/api/v1/write"
        async with RemoteWriter(url, registry, LABELS, session=session, interval=0.02) as writer:
            async with asyncio.timeout(10):
                while writer.failures < 3:
                    await asyncio.sleep(0.01)
        assert writer_tasks() == []
    assert writer.pushes == 0
    assert writer.failures >= 4  # and the one on exit
    assert writer.last_error is not None and "ClientConnectorError" in writer.last_error


async def test_an_answer_other_than_2xx_is_a_failure_naming_the_status(receiver: Receiver) -> None:
    receiver.status = 400
    async with aiohttp.ClientSession() as session:
        writer = RemoteWriter(receiver.url, a_registry()[0], LABELS, session=session)
        assert not await writer.push()
    assert writer.failures == 1
    assert writer.last_error == f"remote write to {receiver.url}: HTTP 400: out of order sample"


async def test_a_push_gives_up_after_its_timeout(receiver: Receiver) -> None:
    receiver.stalled = True
    async with aiohttp.ClientSession() as session:
        writer = RemoteWriter(receiver.url, a_registry()[0], LABELS, session=session, timeout=0.2)
        began = time.monotonic()
        assert not await writer.push()
    assert time.monotonic() - began < 1.0
    assert writer.last_error == f"remote write to {receiver.url}: no answer within 0.2 s"


async def test_a_cancelled_block_leaves_no_task_and_still_pushes_on_exit(
    receiver: Receiver,
) -> None:
    registry, _, _ = a_registry()
    async with aiohttp.ClientSession() as session:
        writer = RemoteWriter(receiver.url, registry, LABELS, session=session, interval=60)

        async def run() -> None:
            async with writer:
                await asyncio.sleep(60)

        task = asyncio.create_task(run())
        async with asyncio.timeout(10):
            while writer.pushes < 1:
                await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert writer_tasks() == []
    assert writer.pushes == len(receiver.received) == 2  # the first, then the one on exit


# ------------------------------------------------------------ a real Prometheus


@pytest.fixture
async def prometheus(tmp_path: Path) -> AsyncIterator[PrometheusProcess]:
    """Prometheus on a free loopback port, receiving remote writes (start_prometheus
    passes no extra flags, so its command is run here)."""
    write_prometheus_config(tmp_path, jobs={"nothing": ("127.0.0.1:9",)}, rule_files=())
    port = free_port()
    command = prometheus_command(find_prometheus(), tmp_path, port)
    log = tmp_path / "prometheus.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, "--web.enable-remote-write-receiver"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    started = PrometheusProcess(process, port, log)
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "prometheus not ready within 30 s"
                try:
                    async with session.get(f"{started.url}/-/ready") as answer:
                        if answer.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        yield started
    finally:
        await asyncio.to_thread(started.stop)


async def query(session: aiohttp.ClientSession, url: str, promql: str, at: float) -> Any:
    params = {"query": promql, "time": f"{at:.3f}"}
    async with session.get(f"{url}/api/v1/query", params=params) as answer:
        body = await answer.json()
    assert body["status"] == "success", body
    return body["data"]["result"]


@pytest.mark.prometheus
async def test_prometheus_stores_the_pushed_series_with_their_labels_and_values(
    prometheus: PrometheusProcess,
) -> None:
    registry, requests, duration = a_registry()
    now = float(int(time.time()))
    clock = iter([now - 5, now])
    url = f"{prometheus.url}/api/v1/write"
    async with aiohttp.ClientSession() as session:
        writer = RemoteWriter(url, registry, LABELS, session=session, clock=lambda: next(clock))
        assert await writer.push(), writer.last_error
        requests.labels("ok").inc(4)
        duration.observe(5.0)
        assert await writer.push(), writer.last_error

        counters = await query(session, prometheus.url, "rw_requests_total", now - 5)
        buckets = await query(session, prometheus.url, "rw_duration_seconds_bucket", now)
        totals = await query(session, prometheus.url, '{__name__=~"rw_duration_seconds_.*"}', now)
        history = await query(session, prometheus.url, 'rw_requests_total{outcome="ok"}[1m]', now)
        everything = await query(session, prometheus.url, '{job="load"}', now)

    assert {r["metric"]["outcome"]: (r["metric"], r["value"][1]) for r in counters} == {
        "error": ({"__name__": "rw_requests_total", "outcome": "error", **LABELS}, "1"),
        "ok": ({"__name__": "rw_requests_total", "outcome": "ok", **LABELS}, "3"),
    }
    bucket = {"__name__": "rw_duration_seconds_bucket", **LABELS}
    assert {r["metric"]["le"]: (r["metric"], r["value"][1]) for r in buckets} == {
        "0.1": ({**bucket, "le": "0.1"}, "1"),
        "1.0": ({**bucket, "le": "1.0"}, "2"),
        "+Inf": ({**bucket, "le": "+Inf"}, "3"),
    }
    assert {r["metric"]["__name__"]: r["value"][1] for r in totals if "le" not in r["metric"]} == {
        "rw_duration_seconds_count": "3",
        "rw_duration_seconds_sum": "5.55",
    }
    # the later push's larger count arrived after the first
    assert history[0]["values"] == [[now - 5, "3"], [now, "7"]]
    assert len(everything) == 2 + 3 + 2  # no _created series
    assert (writer.pushes, writer.failures) == (2, 0)


# ------------------------------------------------------------ the runner's load


async def test_the_runners_load_pushes_its_members_counts_as_job_load(
    upstream: Upstream, receiver: Receiver
) -> None:
    spec = LoadSpec(rate=60.0, mix={"homepage": 1.0, "title": 1.0}, experiment_percent=50.0)
    load = GeneratorLoad(spec, upstream.targets(), metrics_port=0, remote_write_url=receiver.url)
    await load.start()
    try:
        assert load.metrics_url is not None
        async with aiohttp.ClientSession() as session, session.get(load.metrics_url) as scrape:
            assert scrape.status == 200  # still served for a Prometheus that scrapes
        await asyncio.sleep(0.5)
    finally:
        results = await load.stop()
    port = urlsplit(load.metrics_url).port
    assert load.remote_writer is not None and load.remote_writer.failures == 0
    assert len(receiver.received) >= 2  # the first at start, the last at stop
    final = latest_push(receiver)
    assert all(
        ("job", "load") in labels
        and ("instance", f"127.0.0.1:{port}") in labels
        and ("pusher", PUSHER) in labels
        for labels, _ in final
    )
    counted = sum(
        value
        for labels, [(value, _)] in final
        if ("__name__", "chaosbed_member_requests_total") in labels
    )
    assert counted == results["arrivals"] - results["cancelled"] > 0  # cancelled: never counted
    pushed = results["remote_write"]
    assert pushed["url"] == receiver.url and pushed["failures"] == 0 and pushed["pushes"] >= 2


async def test_the_runners_load_says_in_its_results_why_its_pushes_failed(
    upstream: Upstream, unused_tcp_port: int
) -> None:
    nowhere = f"http://127.0.0.1:{unused_tcp_port}/api/v1/write"
    spec = LoadSpec(rate=20.0, mix={"homepage": 1.0}, experiment_percent=0.0)
    load = GeneratorLoad(spec, upstream.targets(), metrics_port=0, remote_write_url=nowhere)
    await load.start()
    try:
        await asyncio.sleep(0.3)
    finally:
        results = await load.stop()

    pushed = results["remote_write"]
    assert pushed["pushes"] == 0 and pushed["failures"] >= 2
    assert nowhere in pushed["last_error"]
