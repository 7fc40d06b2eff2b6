"""A prometheus.yml for the process runtime: every service and the load generator on loopback.

`write_prometheus_config(config_dir)` writes `prometheus.yml` (scrape every
second; one job per service, named after it, on 127.0.0.1:8081-8086 (the
profiles replicas among them), and
`load` for the load generator's member-side metrics on 9095, `monkey` for
`chaosbed monkey`'s on 9096) and copies the
recording and alerting rules of a source checkout's compose/prometheus/rules
next to it, so the SLI series the dashboards read exist here too. Jobs and
rules are arguments, for tests and other layouts.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from chaos.experiment.limits import SCRAPE_INTERVALS
from chaos.project import COMPOSE_DIR
from services.topology import HOST, LOAD_GENERATOR_PORT, MONKEY_PORT, PORTS

__all__ = [
    "DEFAULT_JOBS",
    "LOAD_GENERATOR_PORT",
    "SCRAPE_INTERVALS",
    "bundled_rule_files",
    "write_prometheus_config",
]

DEFAULT_JOBS: Mapping[str, tuple[str, ...]] = {
    **{service: (f"{HOST}:{port}",) for service, port in PORTS.items()},
    "load": (f"{HOST}:{LOAD_GENERATOR_PORT}",),
    "monkey": (f"{HOST}:{MONKEY_PORT}",),
}


def bundled_rule_files() -> tuple[Path, ...]:
    """The rule files of compose/prometheus/rules in a source checkout (none when installed)."""
    rules = COMPOSE_DIR / "prometheus" / "rules"
    return tuple(sorted(rules.glob("*.yml"))) if rules.is_dir() else ()


def write_prometheus_config(
    config_dir: Path,
    *,
    jobs: Mapping[str, Sequence[str]] = DEFAULT_JOBS,
    scrape_interval: float = SCRAPE_INTERVALS["process"],
    rule_files: Sequence[Path] | None = None,
) -> Path:
    """Write `config_dir/prometheus.yml` (and `rules/`); returns the config's path."""
    if not 0.1 <= scrape_interval <= 60:
        raise ValueError(f"scrape_interval: {scrape_interval} s is outside 0.1..60 s")
    if not jobs:
        raise ValueError("jobs: at least one scrape job is needed")
    config_dir.mkdir(parents=True, exist_ok=True)
    rules_dir = config_dir / "rules"
    if rules_dir.exists():
        shutil.rmtree(rules_dir)
    copied: list[str] = []
    for rule_file in bundled_rule_files() if rule_files is None else rule_files:
        rules_dir.mkdir(exist_ok=True)
        shutil.copyfile(rule_file, rules_dir / rule_file.name)
        copied.append(str(rules_dir / rule_file.name))
    interval = f"{round(scrape_interval * 1000)}ms"
    config = {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "evaluation_interval": "5s",
            "external_labels": {"stack": "chaosbed"},
        },
        "rule_files": copied,
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": list(targets)}]}
            for job, targets in jobs.items()
        ],
    }
    path = config_dir / "prometheus.yml"
    header = "# Written by chaosbed (chaos.runtime.prometheus.config); rewritten at each start.\n"
    path.write_text(header + yaml.safe_dump(config, sort_keys=False))
    return path
