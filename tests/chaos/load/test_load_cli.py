"""`chaosbed load`: options, progress, summary, results file and exit codes."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import signal
import socket
from pathlib import Path

import pytest

from chaos.load import cli

from .conftest import Upstream


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chaosbed load")
    cli.configure(parser)
    return parser.parse_args(list(argv))


def to(upstream: Upstream) -> list[str]:
    return [
        *("--catalog-url", upstream.url, "--recommendations-url", upstream.url),
        *("--playback-url", upstream.url, "--profiles-url", upstream.url),
    ]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rate", "0"], "--rate: must be a number above 0 and at most 1000"),
        (["--rate", "5000"], "--rate: must be a number above 0 and at most 1000"),
        (["--duration", "7h"], "--duration: must be a number above 0 and at most 21600"),
        (["--duration", "soon"], "--duration: 'soon' is not a duration"),
        (["--mix", "binge=1"], "--mix: unknown journey 'binge'"),
        (["--experiment-percent", "150"], "--experiment-percent: must be a number at least 0"),
        (["--playback-url", "localhost:8083"], "--playback-url: must be an http"),
        (["--metrics-port", "70000"], "--metrics-port: must be a port from 0 to 65535"),
    ],
)
def test_bad_options_exit_2_naming_the_option(argv: list[str], message: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(parse(*argv), out=out, err=err) == 2
    assert err.getvalue().startswith(f"chaosbed load: {message}")
    assert out.getvalue() == ""


async def test_a_run_prints_the_metrics_url_and_a_summary_per_journey(
    upstream: Upstream, tmp_path: Path
) -> None:
    out, err = io.StringIO(), io.StringIO()
    results_file = tmp_path / "load.json"
    args = parse(
        *to(upstream),
        *("--rate", "40", "--duration", "1s", "--metrics-port", "0", "--seed", "3"),
        *("--mix", "homepage=3,play=1", "--results", str(results_file)),
    )
    assert await cli.run_async(args, out=out, err=err) == 0, err.getvalue()
    text = out.getvalue()
    assert "client metrics on http://127.0.0.1:" in text
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("JOURNEY"))
    assert lines[header].split() == [
        "JOURNEY",
        "SERVICE",
        "REQUESTS",
        "OK",
        "P50",
        "P99",
        "FAILURES",
    ]
    rows = {line.split()[0]: line.split() for line in lines[header + 1 : header + 3]}
    assert set(rows) == {"homepage", "play"}
    assert rows["homepage"][1] == "recommendations" and rows["homepage"][3] == "100.0%"
    assert "target 40/s, achieved" in text
    saved = json.loads(results_file.read_text())
    assert saved["target_rate"] == 40.0 and saved["arrivals"] == saved["sent"] > 10


async def test_on_a_terminal_progress_is_one_line_rewritten(upstream: Upstream) -> None:
    out, err = Terminal(), io.StringIO()
    args = parse(*to(upstream), "--rate", "20", "--duration", "2.5", "--no-metrics")
    assert await cli.run_async(args, out=out, err=err) == 0
    progress = [part for part in out.getvalue().split("\r") if "sent" in part and "/2.5s" in part]
    assert len(progress) >= 2
    assert "ok 100.0%" in progress[-1] and "\x1b[K" in progress[-1]


async def test_a_busy_metrics_port_exits_5(upstream: Upstream) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        out, err = io.StringIO(), io.StringIO()
        args = parse(*to(upstream), "--duration", "1", "--metrics-port", port)
        assert await cli.run_async(args, out=out, err=err) == 5
    assert f"cannot serve client metrics on 127.0.0.1:{port}" in err.getvalue()


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
async def test_a_signal_ends_the_run_with_its_summary_and_128_plus_its_number(
    upstream: Upstream, signum: signal.Signals, status: int
) -> None:
    out, err = io.StringIO(), io.StringIO()
    args = parse(*to(upstream), "--rate", "50", "--duration", "60", "--no-metrics")
    run = asyncio.create_task(cli.run_async(args, out=out, err=err))
    while not upstream.received:  # traffic flows: the run's signal handlers are in place
        assert not run.done(), err.getvalue()
        await asyncio.sleep(0.01)
    # never kill the test process: only signal it while the run's handler replaces the default
    assert signal.getsignal(signum) not in (signal.SIG_DFL, signal.default_int_handler)
    os.kill(os.getpid(), signum)
    assert await asyncio.wait_for(run, 10) == status
    assert "JOURNEY" in out.getvalue()
