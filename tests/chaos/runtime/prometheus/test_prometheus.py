"""The Prometheus config for the process runtime, and running Prometheus as a child."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from chaos.runtime.errors import PrometheusStartError
from chaos.runtime.prometheus import (
    bundled_rule_files,
    prometheus_command,
    start_prometheus,
    write_prometheus_config,
)
from chaos.slo.history import RUN_RETENTION_S


def test_the_default_config_scrapes_every_service_the_load_generator_and_the_monkey(
    tmp_path: Path,
) -> None:
    config = yaml.safe_load(write_prometheus_config(tmp_path).read_text())
    assert config["global"]["scrape_interval"] == "1000ms"
    targets = {c["job_name"]: c["static_configs"][0]["targets"] for c in config["scrape_configs"]}
    assert targets == {
        "catalog": ["127.0.0.1:8081"],
        "recommendations": ["127.0.0.1:8082"],
        "playback": ["127.0.0.1:8083"],
        "profiles": ["127.0.0.1:8084"],
        "profiles-eu": ["127.0.0.1:8085"],
        "profiles-apac": ["127.0.0.1:8086"],
        "load": ["127.0.0.1:9095"],
        "monkey": ["127.0.0.1:9096"],
    }


def test_the_recording_rules_of_the_checkout_are_copied_next_to_the_config(tmp_path: Path) -> None:
    config = yaml.safe_load(write_prometheus_config(tmp_path).read_text())
    names = sorted(p.name for p in bundled_rule_files())
    assert "slis.yml" in names
    assert sorted(p.rsplit("/", 1)[1] for p in config["rule_files"]) == names
    assert all((tmp_path / "rules" / n).is_file() for n in names)


def test_a_scrape_interval_out_of_range_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scrape_interval"):
        write_prometheus_config(tmp_path, scrape_interval=0)


def test_a_missing_binary_is_a_clear_start_error(tmp_path: Path) -> None:
    write_prometheus_config(tmp_path)
    with pytest.raises(PrometheusStartError, match="no prometheus binary found"):
        start_prometheus(tmp_path, 0, binary="/nonexistent/prometheus")


@pytest.mark.prometheus
def test_prometheus_starts_ready_on_loopback_and_stops_cleanly(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    write_prometheus_config(tmp_path, jobs={"nothing": ("127.0.0.1:9",)})
    prometheus = start_prometheus(tmp_path, port)
    try:
        assert prometheus.process.poll() is None
        assert prometheus.url == f"http://127.0.0.1:{port}"
    finally:
        code = prometheus.stop()
    assert code == 0


def test_the_launched_prometheus_keeps_samples_for_the_longest_run(tmp_path: Path) -> None:
    command = prometheus_command("prometheus", tmp_path, 9999)
    (flag,) = [a for a in command if a.startswith("--storage.tsdb.retention.time=")]
    value = flag.split("=", 1)[1]
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    assert value[:-1].isdigit() and value[-1] in units, value
    assert int(value[:-1]) * units[value[-1]] >= RUN_RETENTION_S
