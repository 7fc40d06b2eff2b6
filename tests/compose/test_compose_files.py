"""The compose, Prometheus and Grafana files, read as files (no Docker needed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos.cli.monkey import DEFAULT_NETWORK_MENU
from chaos.monkey.notify import MonkeyMetrics
from chaos.runtime.prometheus import LOAD_GENERATOR_PORT, write_prometheus_config
from services.topology import MONKEY_PORT, Metric, host_port_variable
from tests.compose.compose_support import (
    COMPOSE_FILE,
    DASHBOARDS,
    DASHBOARDS_DIR,
    REPO,
    SERVICES,
    dashboard_queries,
    recording_rules,
)

#: Every series a query may read: the metrics of services/topology.py, a
#: histogram's by its buckets.
KNOWN_METRICS = {
    *(str(metric) for metric in Metric),
    *(f"{metric}_{part}" for metric in Metric for part in ("bucket", "sum", "count")),
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def test_every_published_port_binds_to_loopback_only(compose: dict[str, Any]) -> None:
    ports = [p for s in compose["services"].values() for p in s.get("ports", [])]
    named = {**SERVICES, "prometheus": 9090, "grafana": 3000}
    assert sorted(ports) == sorted(
        f"127.0.0.1:${{{host_port_variable(name)}:-{port}}}:{port}" for name, port in named.items()
    )


def test_every_service_has_a_healthcheck_and_a_restart_policy(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        # a monkey that exits on bad input (no token) must not loop; a crashed one restarts
        assert service["restart"] == ("on-failure:3" if name == "monkey" else "unless-stopped")
        assert service["healthcheck"]["test"], name
    for name, port in SERVICES.items():
        assert f"http://127.0.0.1:{port}/readyz" in compose["services"][name]["healthcheck"]["test"]


def test_services_run_as_a_non_root_user(compose: dict[str, Any]) -> None:
    for name in SERVICES:
        assert compose["services"][name]["user"] == "10001:10001"
    dockerfile = (REPO / "compose" / "service.Dockerfile").read_text()
    assert "USER chaosbed:chaosbed" in dockerfile


def test_profiles_keep_their_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    profiles = compose["services"]["profiles"]
    assert "profiles-data:/data" in profiles["volumes"]
    assert profiles["environment"]["CHAOSBED_PROFILES_DB"] == "/data/profiles.db"
    assert "profiles-data" in compose["volumes"]


def test_each_profiles_replica_runs_the_profiles_image_in_its_region_with_its_own_volume(
    compose: dict[str, Any],
) -> None:
    regions = {"profiles": "us", "profiles-eu": "eu", "profiles-apac": "apac"}
    volumes = set()
    for name, region in regions.items():
        replica = compose["services"][name]
        env = replica["environment"]
        assert replica["command"] == ["python", "-m", "services.profiles"], name
        assert replica["cap_drop"] == ["ALL"] and replica["read_only"] is True, name
        assert env["CHAOSBED_PROFILES_REGION"] == region
        assert env["CHAOSBED_PORT"] == str(SERVICES[name])
        assert env["CHAOSBED_PROFILES_DB"] == f"/data/{name}.db"
        (volume,) = replica["volumes"]
        assert volume == f"{name}-data:/data" and f"{name}-data" in compose["volumes"]
        volumes.add(volume)
        for peer in regions:  # every replica knows where every replica answers
            variable = f"CHAOSBED_{peer.upper().replace('-', '_')}_URL"
            assert env[variable] == f"http://{peer}:{SERVICES[peer]}", (name, variable)
    assert len(volumes) == 3


def test_the_docker_runtime_publishes_each_service_on_the_compose_files_variable() -> None:
    from chaos.runtime import STACK
    from chaos.runtime.docker.runtime import host_port_variables

    text = COMPOSE_FILE.read_text()
    for variable, port in host_port_variables(STACK).items():
        assert f"${{{variable}:-{port}}}:{port}" in text, variable


def test_control_token_comes_from_the_environment_and_defaults_to_off(
    compose: dict[str, Any],
) -> None:
    for name in SERVICES:
        env = compose["services"][name]["environment"]
        assert env["CHAOSBED_CONTROL_TOKEN"] == "${CHAOSBED_CONTROL_TOKEN:-}"
        assert env["CHAOSBED_CATALOG_URL"] == "http://catalog:8081"
        assert env["CHAOSBED_PROFILES_URL"] == "http://profiles:8084"


def scrape_jobs(config: dict[str, Any]) -> dict[str, list[str]]:
    """Each job's static targets ([] for a job whose targets come from a file)."""
    return {
        c["job_name"]: c["static_configs"][0]["targets"] if "static_configs" in c else []
        for c in config["scrape_configs"]
    }


@pytest.mark.parametrize(
    ("job", "variable", "port"),
    [("load", "CHAOSBED_LOAD_TARGETS", LOAD_GENERATOR_PORT),
     ("monkey", "CHAOSBED_MONKEY_TARGETS", MONKEY_PORT)],
)  # fmt: skip
def test_prometheus_scrapes_the_load_generator_and_the_monkey_on_the_host_through_host_gateway(
    compose: dict[str, Any], job: str, variable: str, port: int
) -> None:
    prometheus = compose["services"]["prometheus"]
    assert prometheus["extra_hosts"] == ["host.docker.internal:host-gateway"]
    config = yaml.safe_load((REPO / "compose" / "prometheus" / "prometheus.yml").read_text())
    (scrape,) = [c for c in config["scrape_configs"] if c["job_name"] == job]
    target_file = f"/etc/prometheus/{job}-targets.json"
    assert scrape["file_sd_configs"] == [{"files": [target_file], "refresh_interval": "1m"}]
    # compose mounts it: the host on the usual port, unless chaosbed wrote another
    mounts = prometheus["volumes"]
    default = f"./prometheus/{job}-targets.json"
    assert f"${{{variable}:-{default}}}:{target_file}:ro" in mounts
    content = json.loads((REPO / "compose" / default).read_text())
    assert content == [{"targets": [f"host.docker.internal:{port}"]}]


def test_a_job_that_is_down_between_runs_never_pages() -> None:
    alerts = yaml.safe_load((REPO / "compose/prometheus/rules/alerts.yml").read_text())
    (down,) = [
        r for g in alerts["groups"] for r in g["rules"] if r.get("alert") == "ChaosbedTargetDown"
    ]
    assert down["expr"].startswith('up{job!~"load|monkey|prometheus"}'), down["expr"]


def test_every_dashboard_draws_the_monkey_actions_and_halts_from_its_metrics() -> None:
    registry = MonkeyMetrics().registry
    monkey_metrics = {m.name for m in registry.collect()} | {
        s.name for m in registry.collect() for s in m.samples
    }
    for path in DASHBOARDS_DIR.glob("*.json"):
        annotations = json.loads(path.read_text())["annotations"]["list"]
        assert [a["name"] for a in annotations] == ["chaos actions", "monkey halted"], path.name
        for annotation in annotations:
            assert annotation["datasource"]["uid"] == "chaosbed-prometheus"
            names = set(re.findall(r"\bchaosbed_\w+", annotation["expr"]))
            assert names and names <= monkey_metrics, (path.name, names)


def test_the_process_runtime_prometheus_has_the_jobs_of_the_compose_one(tmp_path: Path) -> None:
    compose_config = yaml.safe_load(
        (REPO / "compose" / "prometheus" / "prometheus.yml").read_text()
    )
    process_config = yaml.safe_load(write_prometheus_config(tmp_path).read_text())
    compose_jobs = set(scrape_jobs(compose_config)) - {"prometheus"}  # it scrapes itself too
    assert set(scrape_jobs(process_config)) == compose_jobs == {*SERVICES, "load", "monkey"}


def test_grafana_and_the_monkey_run_only_in_their_profiles(compose: dict[str, Any]) -> None:
    assert compose["services"]["grafana"]["profiles"] == ["grafana"]
    assert compose["services"]["monkey"]["profiles"] == ["chaos"]
    others = [s for n, s in compose["services"].items() if n not in ("grafana", "monkey")]
    assert all("profiles" not in s for s in others)


def test_the_chaos_profile_runs_the_monkey_on_this_stack_through_the_engine(
    compose: dict[str, Any],
) -> None:
    monkey = compose["services"]["monkey"]
    assert monkey["command"][:6] == ["python", "-m", "chaos", "monkey", "--runtime", "docker"]
    port = "${CHAOSBED_MONKEY_HOST_PORT:-9096}"
    assert monkey["command"][-2:] == ["--control-port", port]
    assert port in " ".join(monkey["healthcheck"]["test"])
    assert "/var/run/docker.sock:/var/run/docker.sock" in monkey["volumes"]
    assert monkey["network_mode"] == "host" and "ports" not in monkey  # the stack's loopback
    assert monkey["environment"] == {
        "CHAOSBED_CONTROL_TOKEN": "${CHAOSBED_CONTROL_TOKEN:-}",
        "CHAOSBED_PORT_BASE": "${CHAOSBED_PORT_BASE:-}",
    }
    assert monkey["depends_on"] == {"prometheus": {"condition": "service_healthy"}}


def test_base_images_are_build_arguments() -> None:
    for name, base in (
        ("service", "ARG PYTHON_BASE=python:3.11-slim-bookworm"),
        ("prometheus", "ARG PROMETHEUS_BASE=prom/prometheus"),
        ("grafana", "ARG GRAFANA_BASE=grafana/grafana"),
    ):
        text = (REPO / "compose" / f"{name}.Dockerfile").read_text()
        assert base in text, name
        assert re.search(r"^FROM \$\{\w+_BASE\}", text, re.MULTILINE), name


@pytest.mark.parametrize("generator", ["compose/generate.py", "dashboards/generate.py"])
def test_the_generated_files_match_the_topology(generator: str) -> None:
    """compose/docker-compose.yml, prometheus.yml and the dashboards are written from
    services/topology.py: a change there without `make generate` fails here."""
    check = [sys.executable, str(REPO / generator), "--check"]
    done = subprocess.run(check, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dashboards_use_the_provisioned_datasource() -> None:
    provisioned = yaml.safe_load(
        (REPO / "dashboards/provisioning/datasources/prometheus.yml").read_text()
    )
    uid = provisioned["datasources"][0]["uid"]
    boards = sorted(p.name for p in DASHBOARDS_DIR.glob("*.json"))
    assert boards == [f"chaosbed-{n}.json" for n in sorted(DASHBOARDS)]
    for path in DASHBOARDS_DIR.glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            assert panel["datasource"]["uid"] == uid, (path.name, panel["title"])


def test_queries_use_only_chaosbed_metrics_and_no_grafana_variables() -> None:
    recorded = {record for record, _ in recording_rules()}
    exprs = [expr for _, _, expr in dashboard_queries()] + [e for _, e in recording_rules()]
    for expr in exprs:
        assert "$" not in expr, expr
        names = set(re.findall(r"\b(?:chaosbed_\w+|\w+:\w+:\w+)", expr))
        unknown = names - KNOWN_METRICS - recorded
        assert not unknown, (expr, unknown)


def test_recording_rules_are_named_level_metric_operations() -> None:
    for record, _ in recording_rules():
        assert re.fullmatch(r"[a-z_]+:chaosbed_[a-z_]+:[a-z0-9_]+", record), record


@pytest.mark.parametrize("script", ["install-docker.sh", "build-images.sh"])
def test_shell_scripts_are_strict_and_parse(script: str) -> None:
    path: Path = REPO / "compose" / script
    assert "set -euo pipefail" in path.read_text()
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_dashboard_panels_fit_the_grid_and_have_unique_ids() -> None:
    for path in DASHBOARDS_DIR.glob("*.json"):
        panels = json.loads(path.read_text())["panels"]
        assert len({p["id"] for p in panels}) == len(panels), path.name
        for panel in panels:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, (path.name, panel["title"])
            assert panel["targets"], (path.name, panel["title"])
            assert [t["refId"] for t in panel["targets"]] == [
                chr(ord("A") + i) for i in range(len(panel["targets"]))
            ]


def test_the_profiles_dashboard_shows_replication_across_the_three_replicas() -> None:
    board = json.loads((DASHBOARDS_DIR / "chaosbed-profiles.json").read_text())
    exprs = {
        panel["title"]: " ".join(t["expr"] for t in panel["targets"]) for panel in board["panels"]
    }
    assert "chaosbed_profiles_replication_lag_seconds" in exprs["Replication lag per replica pair"]
    assert "chaosbed_profiles_replication_pending" in exprs["Pending log entries per replica pair"]
    assert "chaosbed_profiles_sync_total" in exprs["Device syncs by outcome"]
    assert "chaosbed_profiles_conflicts_total" in exprs["Sync conflicts (stale base version)"]
    lag = exprs["Replication lag per replica pair"]
    assert all(name in lag for name in ("profiles-eu", "profiles-apac"))


def test_the_compose_monkeys_menu_and_hold_default_to_the_commands(compose: dict[str, Any]) -> None:
    command = compose["services"]["monkey"]["command"]
    faults = command[command.index("--faults") + 1]
    hold = command[command.index("--hold") + 1]
    assert faults == "${CHAOSBED_MONKEY_FAULTS:-" + DEFAULT_NETWORK_MENU + "}"
    assert hold == "${CHAOSBED_MONKEY_HOLD:-10s}"
