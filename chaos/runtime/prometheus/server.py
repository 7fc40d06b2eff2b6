"""Run a Prometheus server as a child process on loopback, for the process runtime and tests.

`start_prometheus(config_dir, port)` starts the `prometheus` binary with
`config_dir/prometheus.yml`, its data in `config_dir/data` and its log in
`config_dir/prometheus.log`, listening on 127.0.0.1:port only, and returns
once `/-/ready` answers 200. `PrometheusProcess.stop()` sends SIGTERM, waits,
then SIGKILL. Readiness uses http.client: no event loop, no proxies.
"""

from __future__ import annotations

import http.client
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from chaos.runtime.errors import PrometheusStartError

__all__ = ["PrometheusProcess", "find_prometheus", "prometheus_command", "start_prometheus"]


def find_prometheus(binary: str | None = None) -> str:
    """The prometheus executable (default: `prometheus` on PATH, then /usr/bin)."""
    for candidate in (binary,) if binary else ("prometheus", "/usr/bin/prometheus"):
        found = shutil.which(candidate)
        if found:
            return found
    raise PrometheusStartError(
        f"no prometheus binary found ({binary or 'prometheus on PATH or /usr/bin/prometheus'}); "
        "install it (Debian: apt-get install prometheus) or use the scrape backend"
    )


@dataclass
class PrometheusProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, grace_s: float = 10.0) -> int:
        """Stop it (SIGTERM, then SIGKILL after `grace_s`); returns its exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _ready(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        connection.request("GET", "/-/ready")
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def prometheus_command(
    executable: str, config_dir: Path, port: int, *, retention: str = "1d"
) -> list[str]:
    """The command line that runs Prometheus with `config_dir/prometheus.yml`, its data in
    `config_dir/data`, listening on 127.0.0.1:`port` only."""
    return [
        executable,
        f"--config.file={config_dir / 'prometheus.yml'}",
        f"--storage.tsdb.path={config_dir / 'data'}",
        f"--storage.tsdb.retention.time={retention}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
    ]


def start_prometheus(
    config_dir: Path,
    port: int,
    *,
    binary: str | None = None,
    ready_timeout: float = 30.0,
    retention: str = "1d",
) -> PrometheusProcess:
    """Start Prometheus on 127.0.0.1:`port` and wait until it is ready."""
    config = config_dir / "prometheus.yml"
    if not config.is_file():
        raise PrometheusStartError(f"{config} does not exist (write_prometheus_config first)")
    executable = find_prometheus(binary)
    log = config_dir / "prometheus.log"
    command = prometheus_command(executable, config_dir, port, retention=retention)
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    handle = PrometheusProcess(process, port, log)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PrometheusStartError(
                f"prometheus exited with code {process.returncode}; last lines of {log}:\n"
                + _tail(log)
            )
        if _ready(port):
            return handle
        time.sleep(0.1)
    handle.stop()
    raise PrometheusStartError(
        f"prometheus was not ready on port {port} within {ready_timeout:.0f}s; "
        f"last lines of {log}:\n" + _tail(log)
    )
