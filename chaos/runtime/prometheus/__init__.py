"""Prometheus beside a stack: its config, and the server run as a child process.

    config.py   write_prometheus_config: prometheus.yml (a job per service, and
                `load`) and the rules of compose/prometheus/rules
    server.py   find_prometheus, prometheus_command, start_prometheus: the binary
                run on loopback

The process runtime's supervisor runs it (chaos/runtime/process/prometheus_program.py);
tests and benchmarks start one with `start_prometheus`. Reading SLIs from it is
chaos.slo's part.
"""

from .config import DEFAULT_JOBS, LOAD_GENERATOR_PORT, bundled_rule_files, write_prometheus_config
from .server import PrometheusProcess, find_prometheus, prometheus_command, start_prometheus

__all__ = [
    "DEFAULT_JOBS",
    "LOAD_GENERATOR_PORT",
    "PrometheusProcess",
    "bundled_rule_files",
    "find_prometheus",
    "prometheus_command",
    "start_prometheus",
    "write_prometheus_config",
]
